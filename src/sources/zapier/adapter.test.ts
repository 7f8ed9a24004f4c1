/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectRefusal, rawDelivery } from "../../../test/sources/adapter-suite";
import { canonicalHash } from "../ids";
import { zapier } from "./adapter";
import selfServiceForm from "./fixtures/self-service-form.txt?raw";
import { MAX_LABELS } from "../limits";
import { NOT_FIRING_STATUSES } from "./schema";

const FORM = "application/x-www-form-urlencoded";

function json(body: unknown, headers: Record<string, string> = {}) {
  return rawDelivery(JSON.stringify(body), { Authorization: `Bearer ${env.ZAPIER_TOKEN}`, ...headers });
}

function form(body: string) {
  return rawDelivery(body, { Authorization: `Bearer ${env.ZAPIER_TOKEN}` }, FORM);
}

async function alertOf(delivery: ReturnType<typeof json>) {
  const { alerts } = await zapier.receive(delivery);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

describe("zapier.verify", () => {
  it("says which binding to set when the source is disabled", async () => {
    await expectRefusal(
      zapier.verify(json({ title: "VPN down" }), { ...env, ZAPIER_TOKEN: "" } as Env, new Date()),
      401,
      /^this source is disabled: ZAPIER_TOKEN is not set$/,
    );
  });
});

describe("zapier.receive", () => {
  it("names the episode after the body's fields in a canonical form when there is neither Idempotency-Key nor id", async () => {
    const alert = await alertOf(form(selfServiceForm));
    expect(alert.episode).toBe(`zapier:${await canonicalHash(Object.fromEntries(new URLSearchParams(selfServiceForm)))}`);
  });

  it("names the episode after the id, whatever Idempotency-Key says: a second key cannot split one alert", async () => {
    const alert = await alertOf(json({ id: "ZD-88213", title: "VPN down" }, { "Idempotency-Key": "zap-run-7f3a" }));
    expect(alert.episode).toBe("zapier:zd-88213");
  });

  it("names the episode after the Idempotency-Key when the body has no id", async () => {
    const alert = await alertOf(json({ title: "VPN down" }, { "Idempotency-Key": "Zap-Run-7F3A " }));
    expect(alert.episode).toBe("zapier:zap-run-7f3a");
  });

  it("refuses an Idempotency-Key sent twice", async () => {
    const headers = new Headers({ "Idempotency-Key": "run-1" });
    headers.append("Idempotency-Key", "run-2");
    await expectRefusal(zapier.receive({ ...json({ title: "VPN down" }), headers }), 400, /^Idempotency-Key header must be sent once/);
  });

  it("accepts a numeric id", async () => {
    expect((await alertOf(json({ id: 88213, title: "VPN down" }))).episode).toBe("zapier:88213");
  });

  it("refuses an Idempotency-Key too long to store", async () => {
    const delivery = json({ title: "VPN down" }, { "Idempotency-Key": "k".repeat(257) });
    await expectRefusal(zapier.receive(delivery), 400, /^Idempotency-Key header is longer than 256 characters$/);
  });

  it.each(NOT_FIRING_STATUSES.flatMap((s) => [s, s.toUpperCase()]))("treats status %s as not firing", async (status) => {
    const alert = await alertOf(json({ id: "ZD-88213", title: "VPN down", status }));
    expect(alert).toMatchObject({ firing: false, status });
  });

  it.each(["open", "triggered", "Alerting", "pending"])("treats status %s as firing", async (status) => {
    expect((await alertOf(json({ title: "VPN down", status }))).firing).toBe(true);
  });

  it("fires, with a title and status of its own, when the Zap maps neither", async () => {
    expect(await alertOf(json({ user_email: "alex.kim@example.com" }))).toMatchObject({
      title: "(untitled Zapier alert)",
      status: "firing",
      firing: true,
      severity: undefined,
    });
  });

  it("treats known fields the trigger left empty as absent", async () => {
    const alert = await alertOf(json({ title: "VPN down", user_email: "", device_id: "  ", hostname: null, id: "" }));
    expect(alert.target).toEqual({});
    expect(alert.labels).toEqual({});
  });

  it("skips nested objects, arrays and nulls among the labels", async () => {
    const alert = await alertOf(json({ title: "VPN down", requester: { name: "Alex Kim" }, tags: ["vpn", "macos"], assignee: null, office: "Seoul" }));
    expect(alert.labels).toEqual({ office: "Seoul" });
  });

  it("keeps a field named like an object member as a plain label", async () => {
    const alert = await alertOf(form("title=VPN+down&constructor=zap&__proto__=polluted"));
    expect(Object.entries(alert.labels)).toEqual([
      ["constructor", "zap"],
      ["__proto__", "polluted"],
    ]);
    expect(Object.getPrototypeOf(alert.labels)).toBe(Object.prototype);
  });

  it(`takes ${MAX_LABELS} labels and refuses the next, naming it`, async () => {
    const labels = Object.fromEntries(Array.from({ length: MAX_LABELS }, (_, i) => [`field_${i}`, "x"]));
    expect(Object.keys((await alertOf(json({ title: "VPN down", ...labels }))).labels)).toHaveLength(MAX_LABELS);
    await expectRefusal(zapier.receive(json({ title: "VPN down", ...labels, one_more: "x" })), 400, /^one_more: too many fields/);
  });

  it("refuses a field name longer than 128 characters, quoting only its start", async () => {
    const refusal = await expectRefusal(zapier.receive(json({ ["n".repeat(129)]: "x" })), 400, /field name is longer than 128/);
    expect(refusal.message).not.toContain("n".repeat(41));
  });

  it("refuses a label value longer than 1024 characters, naming the field", async () => {
    await expectRefusal(zapier.receive(json({ description: "d".repeat(1025) })), 400, /^description: longer than 1024 characters$/);
  });

  it("refuses a title longer than 1024 characters", async () => {
    await expectRefusal(zapier.receive(json({ title: "t".repeat(1025) })), 400, /^title: /);
  });

  it("refuses a JSON array, saying what it wants instead", async () => {
    await expectRefusal(zapier.receive(json([{ title: "VPN down" }])), 400, /^body must be a JSON object$/);
  });

  it("refuses an invalid email without repeating it", async () => {
    const refusal = await expectRefusal(zapier.receive(json({ user_email: "alex.kim at example" })), 400, /^user_email: /);
    expect(refusal.message).not.toContain("alex.kim");
  });
});
