import type { Decision } from "../model/decision";
import { logProblem } from "./log";

/** The optional `[[analytics_engine_datasets]]` binding; a deploy without it writes nothing. */
type AnalyticsEnv = { DECISIONS?: AnalyticsEngineDataset };

/** What one delivery's decisions are written with. */
export interface DecidedDelivery {
  source: string;
  /** ISO time the relay received the delivery: the start of each decision's latency. */
  received_at: string;
  decisions: readonly Decision[];
}

/**
 * One Workers Analytics Engine data point per decision, for questions `GET /metrics` cannot
 * answer (captures per day by rule, over months):
 * - blobs: `blob1` source, `blob2` rule (empty for an alert no rule matched), `blob3`
 *   outcome, `blob4` command type (empty without one);
 * - doubles: `double1` count (1; multiply by `_sample_interval` when summing), `double2`
 *   seconds from the alert's arrival to the decision;
 * - index: the account id, so sampling is fair per account when several relays share a dataset.
 *
 * Writing does not wait for anything and never fails the delivery: without the binding
 * nothing is written, and a refused point is logged.
 * @see https://developers.cloudflare.com/analytics/analytics-engine/
 */
export function writeDecisionPoints(env: Env, accountId: string, delivery: DecidedDelivery, now: Date): void {
  const dataset = (env as AnalyticsEnv).DECISIONS;
  if (!dataset) return;
  const received = Date.parse(delivery.received_at);
  const latency = Number.isNaN(received) ? 0 : Math.max(0, (now.getTime() - received) / 1000);
  try {
    for (const decision of delivery.decisions) {
      dataset.writeDataPoint({
        blobs: [delivery.source, decision.rule ?? "", decision.outcome, decision.type ?? ""],
        doubles: [1, latency],
        indexes: [accountId],
      });
    }
  } catch (error) {
    logProblem("analytics-write-failed", { error: error instanceof Error ? error.message : String(error) });
  }
}
