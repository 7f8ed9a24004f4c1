import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { apiError, JANE, mockDexApi } from "../helpers/dex-api-mock";
import { advanceClock, holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { isolateEachTest, postZapier, RELAY, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/** Not about approval: the shipped rules with every command sent at once (approval has ./approvals.test.ts). */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

const ADMIN = { authorization: "Bearer admin-test-token" };

function getDelivery(id: string, headers: Record<string, string> = ADMIN) {
  return exports.default.fetch(`${RELAY}/v1/deliveries/${id}`, { headers });
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("GET /v1/deliveries/{id}", () => {
  it("returns the delivery's record with each decision and the commands' current status", async () => {
    const api = mockDexApi();
    const { json, queued } = await postZapier({ id: "audit-1", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
    await runConsumer(queued);
    api.settle(api.commands[0]!.id, "SUCCESS", "pcap-capture.zip");
    // The ledger reads statuses on its own, a little after the create; reads of the record cost nothing.
    await runLedgerAlarm();
    await getDelivery(json.delivery_id);

    const res = await getDelivery(json.delivery_id);
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, any>>();
    expect(body).toMatchObject({ id: json.delivery_id, source: "zapier", state: "done", attempts: 1 });
    expect(body.alerts).toEqual([{ episode: "zapier:audit-1", title: "VPN packet loss", severity: "critical", status: "firing", firing: true }]);
    expect(body.decisions.map((d: any) => [d.rule, d.outcome])).toEqual([
      ["vpn-packet-loss-pcap", "created"],
      ["warp-diag-on-critical", "created"],
    ]);
    expect(body.commands).toEqual([
      expect.objectContaining({ command_id: api.commands[0]!.id, status: "SUCCESS", filename: "pcap-capture.zip", type: "pcap" }),
      expect.objectContaining({ command_id: api.commands[1]!.id, status: "PENDING_EXEC", filename: null, type: "warp-diag" }),
    ]);
    expect(api.callsTo("list")).toHaveLength(1);
  });

  it("records why an alert did not become a command", async () => {
    mockDexApi();
    const { json, queued } = await postZapier({ id: "audit-2", severity: "info", title: "Printer offline", user_email: JANE.personEmail });
    await runConsumer(queued);
    const body = await (await getDelivery(json.delivery_id)).json<Record<string, any>>();
    expect(body.decisions).toEqual([expect.objectContaining({ outcome: "no-rule", reason: "no rule matches this alert" })]);
    expect(body.commands).toEqual([]);
  });

  it("keeps the last status it read when a status poll fails, and reads it again later", async () => {
    const api = mockDexApi();
    const { json, queued } = await postZapier({ id: "audit-3", severity: "critical", title: "Disk latency", user_email: JANE.personEmail });
    await runConsumer(queued);
    api.failNext("list", apiError(503, "unavailable"));
    await runLedgerAlarm();
    const body = await (await getDelivery(json.delivery_id)).json<Record<string, any>>();
    expect(body.commands).toEqual([expect.objectContaining({ command_id: api.commands[0]!.id, status: "PENDING_EXEC" })]);

    api.settle(api.commands[0]!.id, "FAILED");
    advanceClock(20_000);
    await runLedgerAlarm();
    const later = await (await getDelivery(json.delivery_id)).json<Record<string, any>>();
    expect(later.commands).toEqual([expect.objectContaining({ status: "FAILED" })]);
  });

  it("answers 404 for an unknown delivery, and for anything that is not a delivery id", async () => {
    mockDexApi();
    for (const id of ["00000000-0000-4000-8000-000000000000", "x".repeat(600), "..%2F..%2Fclaim"]) {
      const res = await getDelivery(id);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: expect.stringContaining("no such delivery") });
    }
  });

  it("refuses without the admin token, with a wrong one, and with the token of a source", async () => {
    mockDexApi();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer nope" },
      { authorization: "Bearer zapier-test-token" },
      { authorization: "Basic YWRtaW46YWRtaW4=" },
    ]) {
      const res = await getDelivery("anything", headers);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("admin-test-token");
    }
  });

  it("refuses everything while neither ADMIN_TOKEN nor Cloudflare Access is configured, saying only that", async () => {
    mockDexApi();
    const res = await app.request(`${RELAY}/v1/deliveries/anything`, { headers: ADMIN }, { ...env, ADMIN_TOKEN: undefined }, createExecutionContext());
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "unauthorized" });
  });
});
