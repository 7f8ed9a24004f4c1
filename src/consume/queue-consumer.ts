import { loadConfig } from "../config/settings";
import { buildDeliveryRecord, readDeliveryRecord, saveDeliveryRecord, type DeliveryState } from "../record/delivery-record";
import { writeDecisionPoints } from "../record/decision-analytics";
import type { CounterIncrement } from "../model/metrics";
import { deliveryCounts, writeCounts } from "./consumer-counts";
import { logDecision, logEvent, logProblem } from "../record/log";
import { SOURCE_NAMES } from "../sources/registry";
import { Delivery } from "./delivery";
import { readDeliveryMessage, type DeliveryMessage } from "../model/delivery-message";
import { submitPlanned } from "./execute";
import { scheduleLookups } from "./lookup-wait";
import { createPipeline } from "./pipeline";
import { planDeliveries } from "./plan";

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
 * it to the dead-letter queue. Alerts whose device lookups the API budget could not pay for
 * yet are not a failure: the delivery is acknowledged and queued again, naming them, for
 * when the budget has room (./lookup-wait.ts), without spending the message's attempts.
 * What each attempt decided is counted, in one ledger request per batch
 * (./consumer-counts.ts), and written to Analytics Engine when it is final.
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
    await Promise.all(deliveries.filter((delivery) => delivery.continues).map((delivery) => carryOver(delivery, env.RELAY_KV)));
    await submitPlanned(await planDeliveries(deliveries, pipeline), pipeline.ledger, loaded.config.ledger);
  } catch (error) {
    // The command ledger could not be reached, or failed: nothing is recorded as decided,
    // and every message comes back; the ledger answers for what it already holds.
    logProblem("batch-failed", { error: error instanceof Error ? error.message : String(error), messages: deliveries.length });
    for (const { message } of deliveries) message.retry({ delaySeconds: retryDelay(message.attempts) });
    await writeCounts(
      pipeline.ledger,
      deliveries.flatMap((delivery) => deliveryCounts(delivery, "retrying")),
    );
    return;
  }
  const counts: CounterIncrement[] = [];
  await Promise.all(
    deliveries.map(async (delivery) => {
      let state: DeliveryState;
      try {
        state = await settle(delivery, env, now());
      } catch (error) {
        // The record (or the continuation) could not be written: the retry finds every command in the ledger and writes it then.
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

/** A continuation plans only the alerts it names; the others' decisions come from the record of the pass before. */
async function carryOver(delivery: Delivery, kv: KVNamespace): Promise<void> {
  const read = await readDeliveryRecord(kv, delivery.id).catch(() => null);
  // A record this release cannot read counts as missing: every alert is planned again.
  const record = read?.success ? read.data : null;
  if (!delivery.carryOver(record?.decisions))
    logEvent("continuation-replanned", { delivery_id: delivery.id, reason: record ? "record-behind" : "record-missing" });
}

/**
 * Records the delivery's decisions, then acknowledges it or asks the queue to bring it back,
 * and says which; an acknowledged delivery whose lookups wait is queued again first, naming
 * those alerts.
 */
async function settle(delivery: Delivery, env: Env, now: Date): Promise<DeliveryState> {
  const { message } = delivery;
  const wait = delivery.retryAfterSeconds;
  let state: DeliveryState;
  let continuation: { body: DeliveryMessage; delaySeconds: number } | undefined;
  if (wait === undefined) {
    continuation = scheduleLookups(delivery, now);
    state = stillMoving(delivery) ? "in-progress" : "done";
  } else if (message.attempts >= MAX_DELIVERY_ATTEMPTS) state = "dead-lettered";
  else state = "retrying";
  if (state === "dead-lettered") delivery.giveUp();
  for (const decision of delivery.decisions) logDecision(delivery.id, delivery.body.source, decision);
  await saveDeliveryRecord(env.RELAY_KV, buildDeliveryRecord(delivery.body, delivery.allDecisions, state, message.attempts, now));
  if (state === "retrying" || state === "dead-lettered") {
    message.retry({ delaySeconds: Math.max(wait ?? 0, retryDelay(message.attempts)) });
    return state;
  }
  if (continuation) await env.ALERT_QUEUE.send(continuation.body, { contentType: "json", delaySeconds: continuation.delaySeconds });
  message.ack();
  return state;
}

/** Commands the ledger still works on: the delivery is acknowledged, its record not final. */
function stillMoving(delivery: Delivery): boolean {
  return delivery.allDecisions.some((d) => d.outcome === "retrying" || d.outcome === "waiting" || d.outcome === "awaiting-approval");
}

/** 30 s, 60 s, 120 s, ... capped at the queue's maximum. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_SECONDS, BASE_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}
