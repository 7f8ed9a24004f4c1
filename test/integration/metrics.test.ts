import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import worker from "../../src/index";
import { ApiBudget } from "../../src/ledger/api-budget";
import { LedgerMetrics } from "../../src/ledger/ledger-metrics";
import { AccountQuota } from "../../src/ledger/quota";
import { METRIC_FAMILIES, type CounterIncrement } from "../../src/model/metrics";
import { saveDeadLetter } from "../../src/record/dead-letters";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { advanceClock, handedSettings, ledger, runLedgerAlarm } from "../helpers/ledger";
import { flushIngestCounts, SCRAPE_AUTH, scrape, type Scrape } from "../helpers/metrics";
import { isolateEachTest, post, postZapier, RELAY, rulesSentAtOnce, runConsumer as runWithRules, ZAPIER_AUTH } from "../helpers/relay";

/** The consumer with the shipped rules less their approvals: every command is sent at once. */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Partial<Record<keyof Env, unknown>> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

isolateEachTest();
beforeEach(flushIngestCounts);

/**
 * A packet-loss alert through the shipped rules, whose pcap waits for a person: the metrics
 * as they stand then, and the key of the command awaiting approval.
 */
async function captureAwaitingApproval(alertId: string): Promise<{ asked: Scrape; key: string }> {
  mockDexApi();
  const { queued } = await postZapier({ id: alertId, title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail });
  await runWithRules(queued);
  const asked = await scrape();
  const [waiting] = await runInDurableObject(ledger(), (_, state) =>
    state.storage.sql.exec<{ key: string }>("SELECT key FROM commands WHERE state = 'awaiting-approval'").toArray(),
  );
  return { asked, key: waiting!.key };
}

/** Ingest writes its counts at most every 5 s (src/record/counter-batch.ts): a test that scrapes them waits up to that long. */
const WAITS_FOR_INGEST_COUNTS = 20_000;

/** How much each named series moved between two scrapes (a series not shown counts as 0). */
function moved(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
}

describe("GET /metrics: who may read it", () => {
  it("answers Prometheus' scrape token and operators, and refuses anyone else with the same 401", async () => {
    const get = (headers: Record<string, string>) => exports.default.fetch(`${RELAY}/metrics`, { headers });
    expect((await get(SCRAPE_AUTH)).status).toBe(200);
    expect((await get({ authorization: "Bearer admin-test-token" })).status).toBe(200);
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer metrics-test-tokens" },
      { authorization: "Bearer zapier-test-token" },
      { authorization: "metrics-test-token" },
    ]) {
      const res = await get(headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized" });
    }
  });

  it("takes no scrape token while METRICS_TOKEN is unset: operators only", async () => {
    const get = async (authorization: string) => {
      const ctx = createExecutionContext();
      return app.fetch(new Request(`${RELAY}/metrics`, { headers: { authorization } }), { ...env, METRICS_TOKEN: "" }, ctx);
    };
    expect((await get("Bearer metrics-test-token")).status).toBe(401);
    expect((await get("Bearer ")).status).toBe(401);
    expect((await get("Bearer admin-test-token")).status).toBe(200);
  });
});

describe("GET /metrics: what it shows", () => {
  it("shows every family from the first scrape on, each with HELP and TYPE, except those that wait for their first event", async () => {
    const { families } = await scrape();
    const shown = new Map(families.map((f) => [f.name, f.type]));
    // Labelled by what happens (a state, a DEX status, an approval's end) or read from the DEX API: shown once there is one.
    const onFirstEvent = [
      "dex_relay_deliveries_processed_total",
      "dex_relay_command_statuses_total",
      "dex_relay_command_retries_total",
      "dex_relay_approvals_total",
      "dex_relay_dex_command_quota_used",
      "dex_relay_dex_command_quota_left",
    ];
    for (const metric of METRIC_FAMILIES) {
      expect(shown.get(metric.name), metric.name).toBe(onFirstEvent.includes(metric.name) ? undefined : metric.type.toUpperCase());
    }
  });

  it(
    "moves as alerts come in and are processed: ingest outcomes, decisions, commands, DEX statuses and the alert → command time",
    async () => {
      const api = mockDexApi();
      const before = await scrape();

      const accepted = await postZapier({ id: "MET-1", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail });
      expect(accepted.status).toBe(202);
      expect((await postZapier({ id: "MET-2", title: "x" }, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await post("/v1/alerts/zapier", { headers: { ...ZAPIER_AUTH, "content-type": "application/json" }, body: "{not json" })).status).toBe(400);
      expect((await post("/v1/alerts/nagios", { headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(404);
      const ingested = await scrape();
      expect(moved(before, ingested, "dex_relay_deliveries_received_total", { source: "zapier", outcome: "queued" })).toBe(1);
      expect(moved(before, ingested, "dex_relay_alerts_queued_total", { source: "zapier" })).toBe(1);
      expect(moved(before, ingested, "dex_relay_deliveries_received_total", { source: "zapier", outcome: "unauthorized" })).toBe(1);
      expect(moved(before, ingested, "dex_relay_deliveries_received_total", { source: "zapier", outcome: "invalid" })).toBe(1);
      // The path is never a label: an unknown source is counted as `unknown`.
      expect(ingested.value("dex_relay_deliveries_received_total", { source: "unknown", outcome: "unknown-source" })).toBe(1);
      expect(ingested.text).not.toContain("nagios");
      // Nothing was processed yet.
      expect(moved(before, ingested, "dex_relay_decisions_total", { source: "zapier", outcome: "created" })).toBe(0);

      const consumed = await runConsumer(accepted.queued);
      expect(consumed.explicitAcks).toEqual(["msg-0"]);
      const processed = await scrape();
      expect(moved(ingested, processed, "dex_relay_deliveries_processed_total", { source: "zapier", state: "done" })).toBe(1);
      expect(moved(ingested, processed, "dex_relay_decisions_total", { source: "zapier", outcome: "created" })).toBe(2);
      expect(moved(ingested, processed, "dex_relay_commands_total", { type: "pcap", outcome: "created" })).toBe(1);
      expect(moved(ingested, processed, "dex_relay_commands_total", { type: "warp-diag", outcome: "created" })).toBe(1);
      const latency = processed.histogram("dex_relay_alert_to_command_seconds");
      expect(latency.count - ingested.histogram("dex_relay_alert_to_command_seconds").count).toBe(2);
      expect(latency.sum).toBeGreaterThanOrEqual(0);
      expect(latency.buckets["30"]).toBe(latency.count);
      // One device search and one create came out of the budget.
      expect(processed.value("dex_relay_dex_api_budget_calls")).toBeLessThan(100);
      expect(processed.value("dex_relay_commands_pending", { state: "waiting" })).toBe(0);

      for (const command of api.commands) api.settle(command.id, "SUCCESS", `${command.type}-${command.id}.zip`);
      await runLedgerAlarm();
      const finished = await scrape();
      expect(moved(processed, finished, "dex_relay_command_statuses_total", { type: "pcap", status: "SUCCESS" })).toBe(1);
      expect(moved(processed, finished, "dex_relay_command_statuses_total", { type: "warp-diag", status: "SUCCESS" })).toBe(1);
    },
    WAITS_FOR_INGEST_COUNTS,
  );

  it(
    "counts approvals asked for and how they ended",
    async () => {
      const { asked, key } = await captureAwaitingApproval("MET-APPROVE");
      expect(asked.value("dex_relay_approvals_total", { outcome: "requested" })).toBe(1);
      expect((await ledger().decideAsOperator(key, "approve", { by: "admin token" }, handedSettings())).result).toBe("approved");
      const decided = await scrape();
      expect(moved(asked, decided, "dex_relay_approvals_total", { outcome: "approved" })).toBe(1);
      expect(moved(asked, decided, "dex_relay_approvals_total", { outcome: "requested" })).toBe(0);
    },
    WAITS_FOR_INGEST_COUNTS,
  );

  it(
    "counts an approval that expired once, when a late click finds it expired before the alarm does",
    async () => {
      const { asked, key } = await captureAwaitingApproval("MET-LATE");
      // The shipped pcap rule waits 30 minutes for a person.
      advanceClock(31 * 60_000);
      expect((await ledger().decideAsOperator(key, "approve", { by: "admin token" }, handedSettings())).result).toBe("expired");
      await runLedgerAlarm();
      const after = await scrape();
      expect(moved(asked, after, "dex_relay_approvals_total", { outcome: "expired" })).toBe(1);
      expect(moved(asked, after, "dex_relay_approvals_total", { outcome: "approved" })).toBe(0);
    },
    WAITS_FOR_INGEST_COUNTS,
  );

  it(
    "keeps its counters when the ledger deletes the rows they counted",
    async () => {
      mockDexApi();
      const { queued } = await postZapier({ id: "MET-3", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail });
      await runConsumer(queued);
      const before = await scrape();
      expect(before.value("dex_relay_commands_total", { type: "pcap", outcome: "created" })).toBe(1);

      // Past the idempotency window (48 h): the next piece of work deletes the rows.
      advanceClock(49 * 3600_000);
      await ledger().submit([], handedSettings());
      const rows = await runInDurableObject(ledger(), (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM commands").one().n);
      expect(rows).toBe(0);
      const after = await scrape();
      expect(after.value("dex_relay_commands_total", { type: "pcap", outcome: "created" })).toBe(1);
      expect(after.histogram("dex_relay_alert_to_command_seconds").count).toBe(before.histogram("dex_relay_alert_to_command_seconds").count);
    },
    WAITS_FOR_INGEST_COUNTS,
  );

  it("counts a lockout once, however many 429s extend it, and shows the budget and the time left", async () => {
    await ledger().lockOut(120);
    await ledger().lockOut(60);
    const locked = await scrape();
    expect(locked.value("dex_relay_dex_api_lockouts_total")).toBe(1);
    expect(locked.value("dex_relay_dex_api_budget_calls")).toBe(0);
    expect(locked.value("dex_relay_dex_api_lockout_seconds")).toBeGreaterThan(110);
    expect(locked.value("dex_relay_dex_api_lockout_seconds")).toBeLessThanOrEqual(120);

    advanceClock(121_000);
    const free = await scrape();
    expect(free.value("dex_relay_dex_api_lockout_seconds")).toBe(0);
    expect(free.value("dex_relay_dex_api_budget_calls")).toBe(100);
    await ledger().lockOut(30);
    expect((await scrape()).value("dex_relay_dex_api_lockouts_total")).toBe(2);
  });

  it("counts dead letters kept, and shows those waiting for an operator until one is replayed", async () => {
    const before = await scrape();
    expect(before.value("dex_relay_dead_letters_waiting")).toBe(0);
    const message = { version: 2, delivery_id: "dl-1", source: "zapier", received_at: new Date().toISOString(), alerts: [] };
    const batch = createMessageBatch<unknown>("dex-alert-relay-dead-letter", [{ id: "m-1", timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await (worker as ExportedHandler<Env>).queue!(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m-1"]);
    await saveDeadLetter(env.RELAY_KV, {
      id: "0000000000001-replayed",
      dead_lettered_at: new Date().toISOString(),
      attempts: 6,
      reason: "x",
      replays: [{ at: new Date().toISOString(), by: "admin token" }],
    });

    const after = await scrape();
    expect(moved(before, after, "dex_relay_dead_letters_total", { source: "zapier" })).toBe(1);
    expect(after.value("dex_relay_dead_letters_waiting")).toBe(1);
  });

  it("shows the DEX command quota once the ledger has read it, and whether it is spent", async () => {
    const before = await scrape();
    expect(before.family("dex_relay_dex_command_quota_left")).toBeUndefined();
    expect(before.value("dex_relay_dex_command_quota_spent")).toBe(0);
    const resetTime = new Date(Date.now() + 3600_000).toISOString();
    await runInDurableObject(ledger(), (_, state) => {
      new AccountQuota(state.storage.sql).record({ quota: 200, quota_usage: 180, reset_time: resetTime }, Date.now());
    });
    const read = await scrape();
    expect(read.value("dex_relay_dex_command_quota_used")).toBe(180);
    expect(read.value("dex_relay_dex_command_quota_left")).toBe(20);
    expect(read.value("dex_relay_dex_command_quota_spent")).toBe(0);
    // A create refused for the quota: the ledger holds every create until the reset.
    await runInDurableObject(ledger(), (_, state) => {
      new AccountQuota(state.storage.sql).refused(Date.now());
    });
    expect((await scrape()).value("dex_relay_dex_command_quota_spent")).toBe(1);
  });

  it("counts a command the spent quota expired as expired, as the audit trail does, and a status it does not know as other", async () => {
    await runInDurableObject(ledger(), (_, state) => {
      const metrics = new LedgerMetrics(state.storage.sql, new ApiBudget(state.storage.sql), new AccountQuota(state.storage.sql));
      metrics.commandEvent("quota-expired", "pcap", {});
      metrics.commandEvent("quota-held", "pcap", {});
      metrics.commandEvent("status", "pcap", { status: "SOMETHING_NEW" });
    });
    const after = await scrape();
    expect(after.value("dex_relay_commands_total", { type: "pcap", outcome: "expired" })).toBe(1);
    expect(after.value("dex_relay_command_statuses_total", { type: "pcap", status: "other" })).toBe(1);
  });

  it("counts approvals through the ledger's hook", async () => {
    await runInDurableObject(ledger(), (_, state) => {
      const metrics = new LedgerMetrics(state.storage.sql, new ApiBudget(state.storage.sql), new AccountQuota(state.storage.sql));
      metrics.approval("approved");
      metrics.approval("approved");
      metrics.approval("rejected");
    });
    const after = await scrape();
    expect(after.value("dex_relay_approvals_total", { outcome: "approved" })).toBe(2);
    expect(after.value("dex_relay_approvals_total", { outcome: "rejected" })).toBe(1);
  });

  it("says how many configuration problems there are, and still answers when the account id is unset", async () => {
    expect((await scrape()).value("dex_relay_config_problems")).toBe(0);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${RELAY}/metrics`, { headers: SCRAPE_AUTH }), { ...env, CF_ACCOUNT_ID: "", DEX_API_TOKEN: "" }, ctx);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^dex_relay_config_problems [2-9]\d*$/m);
    expect(text).not.toContain("dex_relay_dex_api_budget_calls");
  });
});

describe("the ledger's count()", () => {
  it("refuses whole a batch with an unknown series, wrong labels or a bad increment, and counts nothing of it", async () => {
    const good = { name: "dex_relay_deliveries_received_total", labels: { source: "zapier", outcome: "queued" }, by: 1 };
    const bad: CounterIncrement[] = [
      { name: "dex_relay_made_up_total", labels: {}, by: 1 },
      { name: "dex_relay_deliveries_received_total", labels: { source: "zapier" }, by: 1 },
      { name: "dex_relay_deliveries_received_total", labels: { source: "zapier", outcome: "queued", extra: "x" }, by: 1 },
      { name: "dex_relay_deliveries_received_total", labels: { source: "zapier", outcome: "queued" }, by: -1 },
      { name: "dex_relay_deliveries_received_total", labels: { source: "x".repeat(65), outcome: "queued" }, by: 1 },
      { name: "dex_relay_dex_api_budget_calls", labels: {}, by: 1 },
    ];
    for (const increment of bad) expect((await ledger().count([good, increment])).refused, JSON.stringify(increment)).toEqual(expect.any(String));
    expect((await scrape()).value("dex_relay_deliveries_received_total", { source: "zapier", outcome: "queued" })).toBe(0);
    expect(await ledger().count([good, good])).toEqual({});
    expect((await scrape()).value("dex_relay_deliveries_received_total", { source: "zapier", outcome: "queued" })).toBe(2);
  });
});
