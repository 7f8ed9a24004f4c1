/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectRefusal, rawDelivery } from "../../../test/sources/adapter-suite";
import { datadog } from "./adapter";
import noHostWarn from "./fixtures/no-host-warn.json?raw";
import triggered from "./fixtures/triggered.json?raw";
import { MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_TITLE_LENGTH } from "../limits";

function delivery(body: string) {
  return rawDelivery(body, { Authorization: `Bearer ${env.DATADOG_TOKEN}` });
}

/** The one alert a Triggered notification with `fields` replaced (undefined removes one) yields. */
async function alertOf(fields: Record<string, unknown> = {}, fixture = triggered) {
  const { alerts } = await datadog.receive(delivery(JSON.stringify({ ...JSON.parse(fixture), ...fields })));
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

describe("datadog.verify", () => {
  it("says which binding to set when the source is disabled", async () => {
    await expectRefusal(
      datadog.verify(delivery(triggered), { ...env, DATADOG_TOKEN: undefined } as unknown as Env, new Date()),
      401,
      /^this source is disabled: DATADOG_TOKEN is not set$/,
    );
  });
});

describe("datadog.receive", () => {
  it.each(["Triggered", "Re-Triggered", "re-triggered", "RETRIGGERED"])("fires on %s", async (transition) => {
    expect(await alertOf({ transition })).toMatchObject({ firing: true, status: transition });
  });

  it.each(["Recovered", "Warn", "Re-Warn", "No Data", "Re-No Data", "Renotify"])("records %s as not firing", async (transition) => {
    expect(await alertOf({ transition })).toMatchObject({ firing: false, status: transition });
  });

  it("falls back to the event id when the template has no cycle", async () => {
    expect((await alertOf({ cycle: undefined })).episode).toBe("datadog:148932016:7806264543658765432");
    expect((await alertOf({ cycle: "$ALERT_CYCLE_KEY", id: "7806377215030019884" })).episode).toBe("datadog:148932016:7806377215030019884");
  });

  it("names cycle when neither it nor id is there", async () => {
    await expectRefusal(datadog.receive(delivery(JSON.stringify({ alert_id: "148932016", transition: "Triggered" }))), 400, /^cycle: required/);
  });

  it("accepts ids a template left unquoted", async () => {
    expect((await alertOf({ alert_id: 148932016, cycle: 7806264543 })).episode).toBe("datadog:148932016:7806264543");
  });

  it("treats variables Datadog left empty or unfilled as absent", async () => {
    const alert = await alertOf({ hostname: "", tags: "$TAGS", priority: "$PRIORITY", scope: " ", link: "$LINK", title: "$EVENT_TITLE" });
    expect(alert.target).toEqual({});
    expect(alert.labels).toEqual({});
    expect(alert.severity).toBeUndefined();
    expect(alert.title).toBe("(untitled Datadog alert)");
    expect(alert.refs).toEqual({ event_id: "7806264543658765432" });
  });

  describe("tags", () => {
    it("keeps every ':' after the first in the value, and trims around each tag", async () => {
      const alert = await alertOf({ tags: " url:https://vpn.example.com:8443/health , env:prod,," });
      expect(alert.labels).toEqual({ url: "https://vpn.example.com:8443/health", env: "prod", scope: "host:lt-0442", priority: "P2" });
    });

    it("joins the values of a repeated key, each once, and reads a tag without value as true", async () => {
      const alert = await alertOf({ tags: "role:vpn,role:dns,role:vpn,managed,:orphan", scope: undefined, priority: undefined });
      expect(alert.labels).toEqual({ role: "vpn,dns", managed: "true" });
    });

    it("lets the notification's scope and priority win over tags of the same name", async () => {
      const alert = await alertOf({ tags: "scope:tag-scope,priority:tag-priority" });
      expect(alert.labels).toMatchObject({ scope: "host:lt-0442", priority: "P2" });
    });

    it(`keeps at most ${MAX_LABELS} tags as labels, dropping those too long`, async () => {
      const many = Array.from({ length: MAX_LABELS + 10 }, (_, i) => `tag_${i}:x`);
      const tags = [`note:${"n".repeat(MAX_LABEL_VALUE_LENGTH + 1)}`, ...many].join(",");
      const alert = await alertOf({ tags, scope: undefined, priority: undefined });
      expect(Object.keys(alert.labels)).toHaveLength(MAX_LABELS);
      expect(alert.labels).not.toHaveProperty("note");
      expect(alert.labels).toHaveProperty("tag_0", "x");
    });

    it("keeps a tag named like an object member as a plain label", async () => {
      const alert = await alertOf({ tags: "__proto__:polluted,constructor:x", scope: undefined, priority: undefined });
      expect(Object.entries(alert.labels)).toEqual([
        ["__proto__", "polluted"],
        ["constructor", "x"],
      ]);
      expect(Object.getPrototypeOf(alert.labels)).toBe(Object.prototype);
    });
  });

  describe("severity", () => {
    it("takes an explicit severity field first", async () => {
      expect((await alertOf({ severity: "critical", tags: "severity:info" })).severity).toBe("critical");
    });

    it.each([
      ["P1", "critical"],
      ["P3", "warning"],
      ["P5", "info"],
    ])("maps priority %s to %s", async (priority, severity) => {
      expect((await alertOf({ priority, tags: "severity:critical" })).severity).toBe(severity);
    });

    it("falls back to a severity tag", async () => {
      expect((await alertOf({}, noHostWarn)).severity).toBe("warning");
    });
  });

  describe("target", () => {
    it("takes explicit fields over tags", async () => {
      const explicit = { device_id: "dev-from-field", user_email: "alex.kim@example.com", registration_id: "reg-7f3a" };
      // The fixture's tags name another device and user; only the host comes from them.
      expect((await alertOf(explicit)).target).toEqual({ ...explicit, hostname: "lt-0442" });
    });

    it("takes a hostname or host tag over $HOSTNAME, which it uses when there is none", async () => {
      expect((await alertOf({ tags: "hostname:LT-0442", hostname: "lt-0442.corp" })).target).toEqual({ hostname: "LT-0442" });
      expect((await alertOf({ tags: "env:prod", hostname: "lt-0442.corp" })).target).toEqual({ hostname: "lt-0442.corp" });
    });

    it("skips a tag value too long to name a device", async () => {
      const alert = await alertOf({ tags: `host:${"h".repeat(257)}`, hostname: "lt-0442" });
      expect(alert.target).toEqual({ hostname: "lt-0442" });
    });

    it("reads registration_id from a tag", async () => {
      expect((await alertOf({ tags: "registration_id:reg-7f3a" })).target).toEqual({ registration_id: "reg-7f3a", hostname: "lt-0442" });
    });
  });

  it(`refuses a title longer than ${MAX_TITLE_LENGTH} characters`, async () => {
    await expectRefusal(datadog.receive(delivery(JSON.stringify({ ...JSON.parse(triggered), title: "t".repeat(MAX_TITLE_LENGTH + 1) }))), 400, /^title: /);
  });

  it("refuses a date that is neither text nor a number", async () => {
    await expectRefusal(datadog.receive(delivery(JSON.stringify({ ...JSON.parse(triggered), date: true }))), 400, /^date: /);
  });
});
