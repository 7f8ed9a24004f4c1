import { loadConfig } from "../config/settings";
import type { Decision } from "../record/decision";
import { buildDeliveryRecord, saveDeliveryRecord, type DeliveryState } from "../record/delivery-record";
import { logDecision, logProblem } from "../record/log";
import { SOURCE_NAMES } from "../sources/registry";
import { DeliveryMessageSchema, type DeliveryMessage } from "./delivery-message";
import { executePlan } from "./execute";
import { planDeliveries } from "./plan";
import { createPipeline, planContext } from "./pipeline";

/** wrangler.toml's `max_retries` plus the first delivery: after this, the queue dead-letters. */
export const MAX_DELIVERY_ATTEMPTS = 6;
/** First retry delay; doubles with each attempt. */
export const BASE_RETRY_SECONDS = 30;
/** Queues delay a retry by at most 12 hours. */
const MAX_RETRY_SECONDS = 12 * 3600;
/** A broken configuration is retried at this pace until it is fixed. */
const CONFIG_RETRY_SECONDS = 60;

/**
 * The queue consumer: everything after the 202. Commands from all messages of the batch
 * are planned together and sent in as few create calls as the API allows. A message is
 * acknowledged only once every alert in it has a final decision; otherwise it is retried,
 * and after its last attempt the queue moves it to the dead-letter queue.
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env, now: () => Date = () => new Date()) {
  const loaded = loadConfig(env, SOURCE_NAMES);
  if (!loaded.ok) {
    logProblem("config-invalid", { error: loaded.error, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: CONFIG_RETRY_SECONDS });
    return;
  }

  const messages: Message<unknown>[] = [];
  const deliveries: DeliveryMessage[] = [];
  for (const message of batch.messages) {
    const parsed = DeliveryMessageSchema.safeParse(message.body);
    if (parsed.success) {
      messages.push(message);
      deliveries.push(parsed.data);
    } else {
      // Not ours to guess at: let it run out of retries into the dead-letter queue, where it can be read.
      logProblem("message-malformed", { message_id: message.id, attempts: message.attempts });
      message.retry();
    }
  }
  if (deliveries.length === 0) return;

  const pipeline = createPipeline(env, loaded.config, now);
  try {
    const budget = await pipeline.rateBudget.read();
    const plan = await planDeliveries(deliveries, {
      ...planContext(pipeline, loaded.config, budget),
      isRetry: (i) => messages[i]!.attempts > 1,
    });
    await executePlan(plan, deliveries, { api: pipeline.api, store: pipeline.store, rateBudget: pipeline.rateBudget, budget, now });
    await Promise.all(
      messages.map((message, i) =>
        settleMessage(message, deliveries[i]!, plan.decisions[i]!, plan.retry.get(i), env.RELAY_KV, now()),
      ),
    );
  } catch (error) {
    // KV or the API failed in a way the plan could not absorb: nothing was recorded as done,
    // so the whole batch is tried again.
    logProblem("batch-failed", { error: error instanceof Error ? error.message : String(error), messages: messages.length });
    for (const message of messages) message.retry({ delaySeconds: retryDelay(message.attempts) });
  }
}

async function settleMessage(
  message: Message<unknown>,
  delivery: DeliveryMessage,
  decisions: Decision[],
  requestedDelay: number | undefined,
  kv: KVNamespace,
  now: Date,
): Promise<void> {
  let state: DeliveryState = "done";
  if (requestedDelay !== undefined) {
    if (message.attempts >= MAX_DELIVERY_ATTEMPTS) {
      state = "dead-lettered";
      for (const decision of decisions) {
        if (decision.outcome !== "retrying") continue;
        decision.outcome = "failed";
        decision.reason = `gave up after ${message.attempts} attempts (last: ${decision.reason}); the delivery is in the dead-letter queue`;
      }
    } else {
      state = "retrying";
    }
  }
  for (const decision of decisions) logDecision(delivery.delivery_id, delivery.source, decision);
  await saveDeliveryRecord(kv, buildDeliveryRecord(delivery, decisions, state, message.attempts, now));
  if (state === "done") message.ack();
  else message.retry({ delaySeconds: Math.max(requestedDelay ?? 0, retryDelay(message.attempts)) });
}

/** 30 s, 60 s, 120 s, ... capped at the queue's maximum. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_SECONDS, BASE_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}
