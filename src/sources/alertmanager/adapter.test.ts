/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectRefusal, rawDelivery } from "../../../test/sources/adapter-suite";
import { sha256Hex } from "../../crypto/hmac";
import { hostOfInstance } from "../alert-group";
import { MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_TITLE_LENGTH } from "../limits";
import { alertmanager } from "./adapter";
import firing from "./fixtures/packet-loss.firing.json?raw";
import { MAX_ALERTS_PER_NOTIFICATION } from "./schema";

type Group = { commonLabels: Record<string, unknown>; alerts: Record<string, any>[] };

function delivery(body: string) {
  return rawDelivery(body, { Authorization: `Bearer ${env.ALERTMANAGER_TOKEN}` });
}

/** The fixture's group with `change` applied. */
function groupWith(change: (group: Group) => void): string {
  const group = JSON.parse(firing) as Group;
  change(group);
  return JSON.stringify(group);
}

/** The one alert of a group made of the fixture's first alert, changed by `change`. */
async function firstAlert(change: (alert: Record<string, any>, group: Group) => void = () => {}) {
  const body = groupWith((group) => {
    group.alerts = [group.alerts[0]!];
    change(group.alerts[0]!, group);
  });
  const { alerts } = await alertmanager.receive(delivery(body));
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

describe("alertmanager.verify", () => {
  it("says which binding to set when the source is disabled", async () => {
    await expectRefusal(
      alertmanager.verify(delivery(firing), { ...env, ALERTMANAGER_TOKEN: "" } as Env, new Date()),
      401,
      /^this source is disabled: ALERTMANAGER_TOKEN is not set$/,
    );
  });
});

describe("alertmanager.receive", () => {
  describe("without a fingerprint", () => {
    it("names the episode after the SHA-256 of the alert's sorted labels", async () => {
      const alert = await firstAlert((a) => delete a.fingerprint);
      const labels = JSON.parse(firing).alerts[0].labels as Record<string, string>;
      const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
      expect(alert.episode).toBe(`alertmanager:${await sha256Hex(JSON.stringify(sorted))}:2026-03-12T09:38:07.104Z`);
    });

    it("keeps the episode whatever order the labels come in, and whatever the group shares", async () => {
      const plain = await firstAlert((a) => (a.fingerprint = ""));
      const reordered = await firstAlert((a, group) => {
        delete a.fingerprint;
        a.labels = Object.fromEntries(Object.entries(a.labels).reverse());
        group.commonLabels = { alertname: "WarpTunnelPacketLoss", region: "emea" };
      });
      expect(reordered.episode).toBe(plain.episode);
    });

    it("tells alerts with different labels apart", async () => {
      const one = await firstAlert((a) => delete a.fingerprint);
      const other = await firstAlert((a) => {
        delete a.fingerprint;
        a.labels.instance = "lt-0443.corp.example.com:9182";
      });
      expect(other.episode).not.toBe(one.episode);
    });
  });

  it.each([
    ["the summary", { summary: "Summary", description: "Description" }, "Summary"],
    ["the description without a summary", { summary: " ", description: "Description" }, "Description"],
    ["the alert name without annotations", {}, "WarpTunnelPacketLoss"],
  ])("takes its title from %s", async (_, annotations, title) => {
    expect((await firstAlert((a) => (a.annotations = annotations))).title).toBe(title);
  });

  it("has a title of its own when nothing names the alert", async () => {
    const alert = await firstAlert((a, group) => {
      a.annotations = {};
      delete a.labels.alertname;
      delete group.commonLabels.alertname;
    });
    expect(alert.title).toBe("(untitled alert)");
  });

  it(`cuts a title longer than ${MAX_TITLE_LENGTH} characters instead of refusing the group`, async () => {
    const alert = await firstAlert((a) => (a.annotations = { description: "d".repeat(5000) }));
    expect(alert.title).toHaveLength(MAX_TITLE_LENGTH);
    expect(alert.title.endsWith("…")).toBe(true);
  });

  it("merges the alert's labels over the group's, keeping only text", async () => {
    const alert = await firstAlert((a, group) => {
      group.commonLabels = { team: "it-network", region: "emea", replicas: 2 };
      a.labels = { alertname: "WarpTunnelPacketLoss", team: "it-endpoint", shard: null, severity: "page" };
    });
    expect(alert.labels).toEqual({ team: "it-endpoint", region: "emea", alertname: "WarpTunnelPacketLoss", severity: "page" });
    expect(alert.severity).toBe("critical");
  });

  it("drops labels past the bounds instead of refusing the group", async () => {
    const alert = await firstAlert((a, group) => {
      group.commonLabels = {};
      a.labels = {
        alertname: "WarpTunnelPacketLoss",
        note: "n".repeat(MAX_LABEL_VALUE_LENGTH + 1),
        ["k".repeat(MAX_LABEL_KEY_LENGTH + 1)]: "x",
        ...Object.fromEntries(Array.from({ length: MAX_LABELS }, (_, i) => [`extra_${i}`, "x"])),
      };
    });
    expect(Object.keys(alert.labels)).toHaveLength(MAX_LABELS);
    expect(alert.labels).not.toHaveProperty("note");
    expect(alert.labels.alertname).toBe("WarpTunnelPacketLoss");
    expect(alert.labels).not.toHaveProperty(`extra_${MAX_LABELS - 1}`);
  });

  it("ignores a device field too long to be a real one", async () => {
    const alert = await firstAlert((a) => {
      a.labels.device_id = "d".repeat(257);
      a.annotations.device_id = "7d2e4f10-93ab-4c55-8e21-6b0f3a9c1d77";
      a.generatorURL = `http://prometheus.corp.example.com:9090/graph?g0.expr=${"x".repeat(2048)}`;
    });
    expect(alert.target.device_id).toBe("7d2e4f10-93ab-4c55-8e21-6b0f3a9c1d77");
    expect(alert).not.toHaveProperty("refs");
  });

  it("takes the target from labels before annotations", async () => {
    const alert = await firstAlert((a) => {
      a.labels = { alertname: "WarpTunnelPacketLoss", device_id: "dev-from-label", host: "host-from-label" };
      a.annotations = {
        device_id: "dev-from-annotation",
        user_email: "jane.doe@example.com",
        registration_id: "reg-7f3a",
        hostname: "host-from-annotation",
      };
    });
    expect(alert.target).toEqual({
      device_id: "dev-from-label",
      user_email: "jane.doe@example.com",
      registration_id: "reg-7f3a",
      hostname: "host-from-label",
    });
  });

  it("prefers hostname to host, and both to instance", async () => {
    const both = await firstAlert((a) => Object.assign(a.labels, { hostname: "LT-0442", host: "lt-0442-alias" }));
    expect(both.target.hostname).toBe("LT-0442");
    const annotated = await firstAlert((a) => (a.annotations.host = "LT-0442"));
    expect(annotated.target.hostname).toBe("LT-0442");
  });

  it("leaves the target empty when nothing names a device", async () => {
    const alert = await firstAlert((a) => {
      delete a.labels.instance;
      a.annotations = { summary: "Packet loss" };
    });
    expect(alert.target).toEqual({});
  });

  it("keeps a resolved alert, not firing, under its own status", async () => {
    const { alerts } = await alertmanager.receive(delivery(firing));
    expect(alerts[2]).toMatchObject({ firing: false, status: "resolved" });
  });

  it("adds no refs when the alert has no generator URL", async () => {
    expect(await firstAlert((a) => (a.generatorURL = ""))).not.toHaveProperty("refs");
  });

  it(`takes ${MAX_ALERTS_PER_NOTIFICATION} alerts in one notification`, async () => {
    const body = groupWith((g) => {
      g.alerts = Array.from({ length: MAX_ALERTS_PER_NOTIFICATION }, (_, i) => ({ ...g.alerts[0], fingerprint: `fp${i}` }));
    });
    expect((await alertmanager.receive(delivery(body))).alerts).toHaveLength(MAX_ALERTS_PER_NOTIFICATION);
  });

  it("says how to stay under the limit", async () => {
    const body = groupWith((g) => (g.alerts = Array.from({ length: MAX_ALERTS_PER_NOTIFICATION + 1 }, () => g.alerts[0]!)));
    await expectRefusal(alertmanager.receive(delivery(body)), 400, /^alerts: at most 1000 alerts per notification; lower the receiver's max_alerts$/);
  });

  it("refuses a malformed alert without repeating its labels", async () => {
    const body = groupWith((g) => (g.alerts[1]!.labels = "user_email=alex.kim@example.com"));
    const refusal = await expectRefusal(alertmanager.receive(delivery(body)), 400, /^alerts\[1\]\.labels: /);
    expect(refusal.message).not.toContain("alex.kim");
  });
});

describe("hostOfInstance", () => {
  it.each([
    ["lt-0442.corp.example.com:9182", "lt-0442.corp.example.com"],
    ["10.20.4.17:9100", "10.20.4.17"],
    ["[fd00:10:20::42]:9100", "fd00:10:20::42"],
    ["[::1]", "::1"],
    ["fd00:10:20::42", "fd00:10:20::42"],
    ["MBP-AKIM-14", "MBP-AKIM-14"],
    ["https://vpn.example.com:8443/health", "vpn.example.com"],
    ["http://[fd00::7]:8080/", "fd00::7"],
    [" LT-0442:9182 ", "LT-0442"],
  ])("reads %j as %j", (instance, host) => {
    expect(hostOfInstance(instance)).toBe(host);
  });

  it.each([undefined, "", "  ", ":9100", "[]:9100", "http://"])("finds no host in %j", (instance) => {
    expect(hostOfInstance(instance)).toBeUndefined();
  });
});
