import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../config/middleware";
import { increment, METRICS, type CounterIncrement, type DeliveryOutcome } from "../model/metrics";
import type { CounterBatch } from "../record/counter-batch";
import { sourceNamed } from "../sources/registry";

/** What the alerts route tells the counter about a delivery it answered itself. */
export interface DeliveryTally {
  outcome: DeliveryOutcome;
  /** Alerts queued, for a queued delivery. */
  alerts?: number;
}

export type IngestEnv = { Bindings: Env; Variables: AppEnv["Variables"] & { tally?: DeliveryTally } };

/** An answer the route did not describe (a refusal thrown on the way), by its status. */
const OUTCOME_OF_STATUS: Readonly<Record<number, DeliveryOutcome>> = {
  400: "invalid",
  401: "unauthorized",
  404: "unknown-source",
  413: "too-large",
  415: "unsupported-media-type",
  429: "rate-limited",
  500: "misconfigured",
  503: "unavailable",
};

/**
 * Counts every `POST /v1/alerts/{source}` by source and how it was answered, refusals
 * included, into `dex_relay_deliveries_received_total`. The counts go to the command ledger
 * in batches (../record/counter-batch.ts), never on the way to the sender's answer. A source
 * the relay does not know is counted as `unknown`: a path never becomes a label.
 */
export function countDeliveries(batch: CounterBatch) {
  return createMiddleware<IngestEnv>(async function countDeliveries(c, next) {
    await next();
    let ctx: Pick<ExecutionContext, "waitUntil">;
    try {
      ctx = c.executionCtx;
    } catch {
      return; // Called without an execution context (a unit test of the app): nowhere to write from.
    }
    const source = sourceNamed(c.req.param("source") ?? "")?.name ?? "unknown";
    const tally = c.get("tally") ?? { outcome: OUTCOME_OF_STATUS[c.res.status] ?? "error" };
    const increments: CounterIncrement[] = [increment(METRICS.deliveriesReceived, { source, outcome: tally.outcome })];
    if (tally.alerts) increments.push(increment(METRICS.alertsQueued, { source }, tally.alerts));
    batch.add(increments, c.env, ctx);
  });
}
