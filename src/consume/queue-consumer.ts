import { loadConfig } from "../config/settings";
import { buildDeliveryRecord, saveDeliveryRecord, type DeliveryState } from "../record/delivery-record";
import { writeDecisionPoints } from "../record/decision-analytics";
import type { CounterIncrement } from "../model/metrics";
import { deliveryCounts, writeCounts } from "./consumer-counts";
import { logDecision, logProblem } from "../record/log";
import { SOURCE_NAMES } from "../sources/registry";
import { Delivery } from "./delivery";
import { readDeliveryMessage } from "../model/delivery-message";
import { submitPlanned } from "./execute";
import { createPipeline } from "./pipeline";
import { planDelivery } from "./plan";

/**
 * wrangler.jsonc's `max_retries` plus the first delivery: after this, the queue dead-letters.
 * queue-consumer.test.ts fails when the two part.
 */
export const MAX_DELIVERY_ATTEMPTS = 6;
/** First retry delay; doubles with each attempt. */
export const BASE_RETRY_SECONDS = 30;
/** Queues delay a retry by at most 12 hours. */
const MAX_RETRY_SECONDS = 12 * 3600;
/** A broken configuration is retried at this pace until it is fixed. */
const CONFIG_RETRY_SECONDS = 60;

/**
 * The queue consumer: everything after the 202. Each delivery of the batch is planned
 * (rules matched, devices resolved), then every planned command goes to the command ledger
 * in one call, which sends them in as few creates as the API allows and retries on its own.
 * A message is acknowledged once the ledger holds all its commands; it comes back only when
 * planning must wait (a device lookup failed), and after its last attempt the queue moves
 * it to the dead-letter queue. What each attempt decided is counted, in one ledger request
 * per batch (./consumer-counts.ts), and written to Analytics Engine when it is final.
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env, now: () => Date = () => new Date()) {
  const loaded = loadConfig(env, SOURCE_NAMES);
  if (!loaded.ok) {
    logProblem("config-invalid", { error: loaded.error, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: CONFIG_RETRY_SECONDS });
    return;
  }

  const deliveries: Delivery[] = [];
  for (const message of batch.messages) {
    const parsed = readDeliveryMessage(message.body);
    if (parsed.success) {
      deliveries.push(new Delivery(parsed.data, message));
    } else {
      // Not ours to guess at: let it run out of retries into the dead-letter queue, where it can be read.
      logProblem("message-malformed", { message_id: message.id, attempts: message.attempts });
      message.retry();
    }
  }
  if (deliveries.length === 0) return;

  const pipeline = createPipeline(env, loaded.config);
  try {
    const planned = await Promise.all(deliveries.map((delivery) => planDelivery(delivery, pipeline)));
    await submitPlanned(planned.flat(), pipeline.ledger, loaded.config);
  } catch (error) {
    // The command ledger could not be reached, or failed: nothing is recorded as decided,
    // and every message comes back; the ledger answers for what it already holds.
    logProblem("batch-failed", { error: error instanceof Error ? error.message : String(error), messages: deliveries.length });
    for (const { message } of deliveries) message.retry({ delaySeconds: retryDelay(message.attempts) });
    await writeCounts(pipeline.ledger, deliveries.flatMap((delivery) => deliveryCounts(delivery, "retrying")));
    return;
  }
  const counts: CounterIncrement[] = [];
  await Promise.all(
    deliveries.map(async (delivery) => {
      let state: DeliveryState;
      try {
        state = await settle(delivery, env.RELAY_KV, now());
      } catch (error) {
        // The record could not be written: the retry finds every command in the ledger and writes it then.
        logProblem("record-failed", { delivery_id: delivery.id, error: error instanceof Error ? error.message : String(error) });
        delivery.message.retry({ delaySeconds: retryDelay(delivery.message.attempts) });
        state = "retrying";
      }
      counts.push(...deliveryCounts(delivery, state));
      if (state !== "retrying") writeDecisionPoints(env, loaded.config.accountId, { ...delivery.body, decisions: delivery.decisions }, now());
    }),
  );
  await writeCounts(pipeline.ledger, counts);
}

/** Records the delivery's decisions, then acknowledges it or asks the queue to bring it back; says which. */
async function settle(delivery: Delivery, kv: KVNamespace, now: Date): Promise<DeliveryState> {
  const { message } = delivery;
  const wait = delivery.retryAfterSeconds;
  let state: DeliveryState;
  if (wait === undefined) state = stillMoving(delivery) ? "in-progress" : "done";
  else if (message.attempts >= MAX_DELIVERY_ATTEMPTS) state = "dead-lettered";
  else state = "retrying";
  if (state === "dead-lettered") delivery.giveUp();
  for (const decision of delivery.decisions) logDecision(delivery.id, delivery.body.source, decision);
  await saveDeliveryRecord(kv, buildDeliveryRecord(delivery.body, delivery.decisions, state, message.attempts, now));
  if (state === "retrying" || state === "dead-lettered") message.retry({ delaySeconds: Math.max(wait ?? 0, retryDelay(message.attempts)) });
  else message.ack();
  return state;
}

/** Commands the ledger still works on: the delivery is acknowledged, its record not final. */
function stillMoving(delivery: Delivery): boolean {
  return delivery.decisions.some((d) => d.outcome === "retrying" || d.outcome === "waiting" || d.outcome === "awaiting-approval");
}

/** 30 s, 60 s, 120 s, ... capped at the queue's maximum. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_SECONDS, BASE_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}
