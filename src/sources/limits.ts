/**
 * Bounds on what a source keeps of a delivery, the same for every source: a normalized alert
 * always fits in a queue message, and every id it carries fits in a storage key. Sources
 * whose senders can be fixed refuse what is past them; the others cut or drop it, because
 * their senders do not resend a refused delivery.
 */

/** Longest title kept. */
export const MAX_TITLE_LENGTH = 1024;

/** Labels rules can match, within these limits. */
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY_LENGTH = 128;
export const MAX_LABEL_VALUE_LENGTH = 1024;

/** Longer device ids, emails or host names than this are not real ones. */
export const MAX_TARGET_LENGTH = 256;

/** Longest id a sender chooses (an alert's `id`, an `Idempotency-Key`): it becomes part of the episode key. */
export const MAX_ID_LENGTH = 256;
/** Longest id a vendor assigns; PagerDuty's, Datadog's and Cloudflare's are far shorter. */
export const MAX_VENDOR_ID_LENGTH = 128;
/** A longer redelivery id (PagerDuty's `X-Webhook-Id`, a `webhook-id`) is not used: it would not fit in a KV key. */
export const MAX_REDELIVERY_KEY_LENGTH = 128;

/** Longest link kept as a reference (a generator URL, an incident URL). */
export const MAX_REF_LENGTH = 2048;
