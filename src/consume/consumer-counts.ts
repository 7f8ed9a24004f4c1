import type { LedgerStub } from "../ledger/ledger-stub";
import { increment, METRICS, type CounterIncrement } from "../model/metrics";
import type { DeliveryState } from "../record/delivery-record";
import { logProblem } from "../record/log";
import type { Delivery } from "./delivery";

/**
 * What one attempt at a delivery adds to the counters: the attempt, by the state it left the
 * delivery in, and — once the attempt is the delivery's last word (not `retrying`, whose
 * decisions the next attempt makes again) — each decision by outcome.
 */
export function deliveryCounts(delivery: Delivery, state: DeliveryState): CounterIncrement[] {
  const { source } = delivery.body;
  const counts = [increment(METRICS.deliveriesProcessed, { source, state })];
  if (state === "retrying") return counts;
  const outcomes = new Map<string, number>();
  for (const { outcome } of delivery.decisions) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  for (const [outcome, by] of outcomes) counts.push(increment(METRICS.decisions, { source, outcome }, by));
  return counts;
}

/**
 * Writes a batch's counts to the command ledger in one request. A failure is logged and
 * the counts dropped: counting never makes a delivery retry.
 */
export async function writeCounts(ledger: Pick<LedgerStub, "count">, increments: CounterIncrement[]): Promise<void> {
  if (increments.length === 0) return;
  try {
    await ledger.count(increments);
  } catch (error) {
    logProblem("metrics-write-failed", { counts: increments.length, error: error instanceof Error ? error.message : String(error) });
  }
}
