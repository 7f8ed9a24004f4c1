import { DeliveryMessage, DeliveryMessageV1 } from "../model/delivery-message";
import { versionedReader, type Read } from "../model/versioned";
import * as z from "../model/zod";

/** How long a dead letter is kept for an operator to read or replay: the queue's own retention. */
export const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 3600;
export const DEAD_LETTER_PREFIX = "dead-letter:";
const TIME_DIGITS = 13;
const LATEST_MS = 10 ** TIME_DIGITS - 1;
/** Ids are `<inverted time>-<queue message id>`: nothing else is looked up. */
export const DEAD_LETTER_ID = /^\d{13}-[A-Za-z0-9_-]{1,128}$/;

/**
 * The version of the dead letter (and of its summary in the key's metadata) this release
 * writes, beside its fields. Release 0.1.0's names none (version 1): the same fields, with
 * the delivery as 0.1.0 queued it, unversioned.
 */
export const DEAD_LETTER_VERSION = 2;

const letterFields = {
  id: z.string().check(z.regex(DEAD_LETTER_ID)),
  /** When the relay took it from the dead-letter queue and kept it. */
  dead_lettered_at: z.string(),
  attempts: z.number(),
  reason: z.string(),
  replays: z.array(z.object({ at: z.string(), by: z.string() })),
};

/** A delivery that ran out of attempts, kept with why. */
export const DeadLetter = z.object({
  ...letterFields,
  /** The delivery as ingest queued it, in the current message version; absent when the message was not a delivery at all. */
  message: z.optional(DeliveryMessage),
  /**
   * A message of a newer release (one that dead-lettered after a rollback), kept as it came,
   * so that the release that wrote it can read and replay it once it is back: the release
   * after this one reads it with its own message reader.
   */
  newer_message: z.optional(z.unknown()),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** Release 0.1.0's dead letter: its delivery is read as the current message. */
const DeadLetterV1 = z.object({ ...letterFields, message: z.optional(DeliveryMessageV1) });

/** What the listing shows without reading each dead letter. */
export const DeadLetterSummary = z.object({
  id: z.string(),
  delivery_id: z.optional(z.string()),
  source: z.optional(z.string()),
  alerts: z.number(),
  dead_lettered_at: z.string(),
  reason: z.string(),
  replayed_at: z.optional(z.string()),
});
export type DeadLetterSummary = z.infer<typeof DeadLetterSummary>;

/** A dead letter the listing found but cannot show: one a newer release kept, most likely. */
export interface UnreadableDeadLetter {
  id: string;
  error: string;
}

const readStoredDeadLetter = versionedReader<DeadLetter>("dead letter", { 1: DeadLetterV1, [DEAD_LETTER_VERSION]: DeadLetter });
const readSummary = versionedReader<DeadLetterSummary>("dead-letter summary", { 1: DeadLetterSummary, [DEAD_LETTER_VERSION]: DeadLetterSummary });

/**
 * The id sorts newest first in KV's byte order (by the message's queue timestamp) and
 * depends only on the queue message, so a dead letter the queue brings to its consumer
 * twice is kept once.
 */
export function deadLetterId(messageId: string, timestamp: Date): string {
  const inverted = LATEST_MS - Math.min(LATEST_MS, Math.max(0, timestamp.getTime()));
  return `${String(inverted).padStart(TIME_DIGITS, "0")}-${messageId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 128)}`;
}

/** Writes the dead letter in this release's version, whatever version it was read in. */
export async function saveDeadLetter(kv: KVNamespace, letter: DeadLetter): Promise<void> {
  const summary: DeadLetterSummary & { version: typeof DEAD_LETTER_VERSION } = {
    version: DEAD_LETTER_VERSION,
    id: letter.id,
    ...(letter.message ? { delivery_id: letter.message.delivery_id, source: letter.message.source } : {}),
    alerts: letter.message?.alerts.length ?? 0,
    dead_lettered_at: letter.dead_lettered_at,
    // Metadata stays under KV's 1024 bytes.
    reason: letter.reason.slice(0, 400),
    ...(letter.replays.length ? { replayed_at: letter.replays.at(-1)!.at } : {}),
  };
  await kv.put(`${DEAD_LETTER_PREFIX}${letter.id}`, JSON.stringify({ version: DEAD_LETTER_VERSION, ...letter }), {
    expirationTtl: DEAD_LETTER_TTL_SECONDS,
    metadata: summary,
  });
}

/** Dead letter `id`: null when there is none, or why this release cannot read the one there is. */
export async function readDeadLetter(kv: KVNamespace, id: string): Promise<Read<DeadLetter> | null> {
  if (!DEAD_LETTER_ID.test(id)) return null;
  const stored = await kv.get<unknown>(`${DEAD_LETTER_PREFIX}${id}`, "json");
  return stored === null ? null : readStoredDeadLetter(stored);
}

/** Dead letters newest first, one KV list page at a time; those this release cannot read, by id. */
export async function listDeadLetters(
  kv: KVNamespace,
  options: { cursor?: string; limit: number },
): Promise<{ dead_letters: DeadLetterSummary[]; cursor: string | null; unreadable: UnreadableDeadLetter[] }> {
  const listed = await kv.list<unknown>({ prefix: DEAD_LETTER_PREFIX, limit: options.limit, cursor: options.cursor ?? null });
  const deadLetters: DeadLetterSummary[] = [];
  const unreadable: UnreadableDeadLetter[] = [];
  for (const key of listed.keys) {
    const summary = readSummary(key.metadata);
    if (summary.success) deadLetters.push(summary.data);
    else unreadable.push({ id: key.name.slice(DEAD_LETTER_PREFIX.length), error: summary.error });
  }
  return { dead_letters: deadLetters, cursor: listed.list_complete ? null : listed.cursor, unreadable };
}
