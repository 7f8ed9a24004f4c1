import { deadLetterId, readDeadLetter, saveDeadLetter } from "../record/dead-letters";
import { readDeliveryRecord, saveDeliveryRecord } from "../record/delivery-record";
import { logEvent, logProblem } from "../record/log";
import { isNewerMessage, readDeliveryMessage } from "../model/delivery-message";
import { countInLedger } from "../ledger/count-in-ledger";
import { increment, METRICS, type CounterIncrement } from "../model/metrics";
import { sourceNamed } from "../sources/registry";

/** The queue wrangler.jsonc names as the alert queue's `dead_letter_queue`. */
export const DEAD_LETTER_QUEUE = "dex-alert-relay-dead-letter";

/**
 * The consumer of `dex-alert-relay-dead-letter`: every delivery that ran out of attempts is
 * kept in KV with why it died (the last reasons its record gives), so that nothing is lost
 * silently and an operator can replay it. A message is acknowledged only once it is kept.
 * Each one kept is counted (`dex_relay_dead_letters_total`), in one ledger request per batch.
 */
export async function keepDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const kept: CounterIncrement[] = [];
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const id = deadLetterId(message.id, message.timestamp);
        // Kept already (by this release or another): the queue brought it twice.
        if (await readDeadLetter(env.RELAY_KV, id)) return message.ack();
        const parsed = readDeliveryMessage(message.body);
        const reason = parsed.success ? await whyItDied(env.RELAY_KV, parsed.data.delivery_id) : `not a delivery this release can replay: ${parsed.error}`;
        await saveDeadLetter(env.RELAY_KV, {
          id,
          dead_lettered_at: new Date().toISOString(),
          attempts: message.attempts,
          reason,
          ...(parsed.success ? { message: parsed.data } : isNewerMessage(message.body) ? { newer_message: message.body } : {}),
          replays: [],
        });
        if (parsed.success) await markDeadLettered(env.RELAY_KV, parsed.data.delivery_id, new Date());
        kept.push(increment(METRICS.deadLetters, { source: (parsed.success && sourceNamed(parsed.data.source)?.name) || "unknown" }));
        logEvent("dead-letter-kept", { dead_letter_id: id, delivery_id: parsed.success ? parsed.data.delivery_id : undefined });
        message.ack();
      } catch (error) {
        logProblem("dead-letter-not-kept", { message_id: message.id, error: error instanceof Error ? error.message : String(error) });
        message.retry();
      }
    }),
  );
  await countInLedger(env, kept).catch((error) => {
    logProblem("metrics-write-failed", { counts: kept.length, error: error instanceof Error ? error.message : String(error) });
  });
}

/**
 * The consumer records `dead-lettered` itself only when it saw the last attempt; when the
 * queue gave up earlier (a smaller `max_retries`, say), its record still says `retrying`.
 * The record is rewritten in this release's version; one it cannot read is left as it is.
 */
async function markDeadLettered(kv: KVNamespace, deliveryId: string, at: Date): Promise<void> {
  const record = await readDeliveryRecord(kv, deliveryId);
  if (!record?.success || record.data.state === "dead-lettered" || record.data.state === "done") return;
  await saveDeliveryRecord(kv, { ...record.data, state: "dead-lettered", updated_at: at.toISOString() });
}

/** The failures the delivery's last recorded attempt gives, or what is known without it. */
async function whyItDied(kv: KVNamespace, deliveryId: string): Promise<string> {
  const record = await readDeliveryRecord(kv, deliveryId);
  if (!record) return "ran out of attempts before any was recorded (the configuration was invalid, or the command ledger could not be reached)";
  if (!record.success) return `ran out of attempts; its record cannot be read by this release (${record.error})`;
  const reasons = [...new Set(record.data.decisions.filter((d) => d.outcome === "failed" || d.outcome === "retrying").map((d) => d.reason))];
  return reasons.length > 0 ? reasons.join("; ") : `ran out of attempts with its record ${record.data.state}`;
}
