import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { apiError, JANE, mockDexApi } from "../helpers/dex-api-mock";
import { TEST_ACCOUNT_ID } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, postZapier, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/** The consumer with the shipped rules less their approvals: every command is sent at once. */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Partial<Record<keyof Env, unknown>> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

isolateEachTest();

async function queueAlert(id: string, fields: Record<string, unknown> = { user_email: JANE.personEmail }) {
  const { status, queued } = await postZapier({ id, title: "VPN packet loss", severity: "critical", ...fields });
  expect(status).toBe(202);
  return queued;
}

describe("Analytics Engine: one data point per decision", () => {
  it("writes source, rule, outcome and type as blobs, count and latency as doubles, the account as index", async () => {
    mockDexApi();
    const points = vi.spyOn(env.DECISIONS, "writeDataPoint");
    const queued = await queueAlert("AE-1");
    await runConsumer(queued);
    const record = await deliveryRecord(queued[0]!.delivery_id);
    expect(record?.decisions).toHaveLength(2);
    expect(points).toHaveBeenCalledTimes(2);
    const written = points.mock.calls.map(([point]) => point!);
    expect(written.map((p) => p.blobs)).toEqual(
      expect.arrayContaining([
        ["zapier", "vpn-packet-loss-pcap", "created", "pcap"],
        ["zapier", "warp-diag-on-critical", "created", "warp-diag"],
      ]),
    );
    for (const point of written) {
      expect(point.indexes).toEqual([TEST_ACCOUNT_ID]);
      expect(point.doubles![0]).toBe(1);
      expect(point.doubles![1]).toBeGreaterThanOrEqual(0);
      expect(point.doubles![1]).toBeLessThan(60);
    }
  });

  it("writes a decision without a rule or a type with empty blobs", async () => {
    mockDexApi();
    const points = vi.spyOn(env.DECISIONS, "writeDataPoint");
    await runConsumer(await queueAlert("AE-2", { severity: "info", title: "Printer low on toner" }));
    expect(points.mock.calls.map(([point]) => point!.blobs)).toEqual([["zapier", "", "no-rule", ""]]);
  });

  it("writes nothing for an attempt the queue will bring back: its decisions are made again", async () => {
    const api = mockDexApi();
    api.failNext("devices", apiError(503, "unavailable"));
    const points = vi.spyOn(env.DECISIONS, "writeDataPoint");
    const result = await runConsumer(await queueAlert("AE-3"));
    expect(result.retryMessages).toHaveLength(1);
    expect(points).not.toHaveBeenCalled();
  });

  it("writes nothing, and fails nothing, without the binding", async () => {
    mockDexApi();
    const points = vi.spyOn(env.DECISIONS, "writeDataPoint");
    const result = await runConsumer(await queueAlert("AE-4"), 1, { DECISIONS: undefined });
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(points).not.toHaveBeenCalled();
  });
});
