import type { DeliveryMessage } from "../model/delivery-message";

/** How long a dead letter is kept for an operator to read or replay: the queue's own retention. */
export const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 3600;
export const DEAD_LETTER_PREFIX = "dead-letter:";
const TIME_DIGITS = 13;
const LATEST_MS = 10 ** TIME_DIGITS - 1;
/** Ids are `<inverted time>-<queue message id>`: nothing else is looked up. */
export const DEAD_LETTER_ID = /^\d{13}-[A-Za-z0-9_-]{1,128}$/;

/** A delivery that ran out of attempts, kept with why. */
export interface DeadLetter {
  id: string;
  /** When the relay took it from the dead-letter queue and kept it. */
  dead_lettered_at: string;
  attempts: number;
  reason: string;
  /** The delivery as ingest queued it; absent when the message was not a delivery at all. */
  message?: DeliveryMessage;
  replays: Array<{ at: string; by: string }>;
}

/** What the listing shows without reading each dead letter. */
export interface DeadLetterSummary {
  id: string;
  delivery_id?: string;
  source?: string;
  alerts: number;
  dead_lettered_at: string;
  reason: string;
  replayed_at?: string;
}

/**
 * The id sorts newest first in KV's byte order (by the message's queue timestamp) and
 * depends only on the queue message, so a dead letter the queue brings to its consumer
 * twice is kept once.
 */
export function deadLetterId(messageId: string, timestamp: Date): string {
  const inverted = LATEST_MS - Math.min(LATEST_MS, Math.max(0, timestamp.getTime()));
  return `${String(inverted).padStart(TIME_DIGITS, "0")}-${messageId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128)}`;
}

export async function saveDeadLetter(kv: KVNamespace, letter: DeadLetter): Promise<void> {
  const summary: DeadLetterSummary = {
    id: letter.id,
    ...(letter.message ? { delivery_id: letter.message.delivery_id, source: letter.message.source } : {}),
    alerts: letter.message?.alerts.length ?? 0,
    dead_lettered_at: letter.dead_lettered_at,
    // Metadata stays under KV's 1024 bytes.
    reason: letter.reason.slice(0, 400),
    ...(letter.replays.length ? { replayed_at: letter.replays.at(-1)!.at } : {}),
  };
  await kv.put(`${DEAD_LETTER_PREFIX}${letter.id}`, JSON.stringify(letter), { expirationTtl: DEAD_LETTER_TTL_SECONDS, metadata: summary });
}

export async function readDeadLetter(kv: KVNamespace, id: string): Promise<DeadLetter | null> {
  if (!DEAD_LETTER_ID.test(id)) return null;
  return kv.get<DeadLetter>(`${DEAD_LETTER_PREFIX}${id}`, "json");
}

/** Dead letters newest first, one KV list page at a time. */
export async function listDeadLetters(
  kv: KVNamespace,
  options: { cursor?: string; limit: number },
): Promise<{ dead_letters: DeadLetterSummary[]; cursor: string | null }> {
  const listed = await kv.list<DeadLetterSummary>({ prefix: DEAD_LETTER_PREFIX, limit: options.limit, cursor: options.cursor ?? null });
  return {
    dead_letters: listed.keys.flatMap((key) => (key.metadata ? [key.metadata] : [])),
    cursor: listed.list_complete ? null : listed.cursor,
  };
}
