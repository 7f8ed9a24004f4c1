import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import triggeredFixture from "../../src/sources/pagerduty/fixtures/incident.triggered.json?raw";
import { deliveryKey } from "../../src/model/kv-keys";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { RELAY, ZAPIER_AUTH } from "../helpers/relay";
import { signPagerDuty } from "../helpers/sign";
import { freshPagerDuty } from "../helpers/source-fixtures";

/** Dated now: the relay refuses PagerDuty events older than PagerDuty retries. */
const pagerDutyTriggered = freshPagerDuty(triggeredFixture);

/**
 * From HTTP request to outbound DEX calls through the real local Queue: the Worker's
 * producer sends, the Queues runtime batches, the Worker's consumer runs.
 */

/** Waits, bounded, until the consumer has recorded every delivery (`in-progress` while a command awaits approval). */
async function settled(deliveryIds: string[], timeoutMs = 15_000, states = ["done"]) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await Promise.all(deliveryIds.map((id) => env.RELAY_KV.get<Record<string, any>>(deliveryKey(id), "json")));
    if (records.every((r) => states.includes(r?.state))) return records as Record<string, any>[];
    if (Date.now() > deadline) throw new Error(`deliveries not processed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function send(path: string, headers: Record<string, string>, body: string) {
  return exports.default.fetch(`${RELAY}${path}`, { method: "POST", headers, body });
}

/** Waits, bounded, until `check` holds: the ledger's alarm runs on the runtime's own clock here. */
async function until(check: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ADMIN = { authorization: "Bearer admin-test-token" };

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

describe("end to end through the local queue", () => {
  it("a signed PagerDuty incident becomes commands on the user's device, its pcap once approved, once, however often it is delivered", async () => {
    const api = mockDexApi();
    const headers = {
      "content-type": "application/json",
      "x-pagerduty-signature": await signPagerDuty(pagerDutyTriggered, "pd-secret-current"),
      "x-webhook-id": "f7e1c2a4-5d5c-4a8e-9c55-0b7e4f3f2b11",
    };
    const first = await send("/v1/alerts/pagerduty", headers, pagerDutyTriggered);
    expect(first.status).toBe(202);
    const { delivery_id } = await first.json<{ delivery_id: string }>();
    const [record] = await settled([delivery_id], 15_000, ["in-progress"]);

    // The shipped pcap rule waits for a person: only the warp-diag went out.
    expect(api.commands.map((c) => [c.type, c.device_id])).toEqual([["warp-diag", JANE.deviceId]]);
    expect(record?.decisions.map((d: any) => d.outcome)).toEqual(["awaiting-approval", "created"]);

    // An operator approves it (the console's form, with the admin token); the ledger's alarm sends it.
    const { commands } = await (await exports.default.fetch(`${RELAY}/v1/commands?status=awaiting-approval`, { headers: ADMIN })).json<{
      commands: Array<{ key: string }>;
    }>();
    expect(commands).toHaveLength(1);
    const approved = await exports.default.fetch(`${RELAY}/console/approvals/${commands[0]!.key}/approve`, {
      method: "POST",
      headers: ADMIN,
      redirect: "manual",
    });
    expect(approved.status).toBe(303);
    await until(() => api.commands.length === 2);
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);

    // PagerDuty's retry of the same webhook is dropped at the door.
    const retry = await send("/v1/alerts/pagerduty", headers, pagerDutyTriggered);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ status: "duplicate", delivery_id });

    // The same event under another webhook id (a second subscription) creates nothing either.
    const again = await send("/v1/alerts/pagerduty", { ...headers, "x-webhook-id": "another" }, pagerDutyTriggered);
    expect(again.status).toBe(202);
    const [duplicate] = await settled([(await again.json<{ delivery_id: string }>()).delivery_id]);
    expect(duplicate?.decisions.map((d: any) => d.outcome)).toEqual(["duplicate", "duplicate"]);
    expect(api.callsTo("create")).toHaveLength(2);
  });

  it("a Zapier JSON body and a Zapier form body become commands (a pcap only once approved)", async () => {
    const api = mockDexApi();
    const json = await send(
      "/v1/alerts/zapier",
      { ...ZAPIER_AUTH, "content-type": "application/json" },
      JSON.stringify({ id: "TCK-1042", title: "VPN dropping packets", severity: "error", user_email: SAM.personEmail }),
    );
    const form = await send(
      "/v1/alerts/zapier",
      { ...ZAPIER_AUTH, "content-type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ id: "TCK-1043", title: "Slow video calls", check: "bandwidth", user_email: JANE.personEmail! }).toString(),
    );
    expect([json.status, form.status]).toEqual([202, 202]);
    const ids = [(await json.json<{ delivery_id: string }>()).delivery_id, (await form.json<{ delivery_id: string }>()).delivery_id];
    const [fromJson] = await settled(ids, 15_000, ["in-progress", "done"]);
    expect(fromJson?.decisions.map((d: any) => `${d.type}@${d.device_id}: ${d.outcome}`)).toEqual([`pcap@${SAM.deviceId}: awaiting-approval`]);
    expect(api.commands.map((c) => `${c.type}@${c.device_id}`)).toEqual([`speed-test@${JANE.deviceId}`]);
  });

  it("50 concurrent deliveries of the same alert end as one command", async () => {
    const api = mockDexApi();
    const body = JSON.stringify({ id: "HA-PAIR-1", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => send("/v1/alerts/zapier", { ...ZAPIER_AUTH, "content-type": "application/json" }, body)),
    );
    expect(responses.every((r) => r.status === 202)).toBe(true);
    const ids = await Promise.all(responses.map(async (r) => (await r.json<{ delivery_id: string }>()).delivery_id));
    const records = await settled(ids, 30_000);

    expect(api.commands).toHaveLength(1);
    const outcomes = records.flatMap((r) => r.decisions.map((d: any) => d.outcome));
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(49);
  }, 40_000);
});
