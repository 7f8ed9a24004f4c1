import * as z from "zod";

/** Longest title kept; longer ones are refused, so the sender gets fixed. */
export const MAX_TITLE_LENGTH = 1024;
/** Longest `id`: it becomes part of the episode key the relay stores. */
export const MAX_ID_LENGTH = 256;
/** Longer device ids, emails or host names than this are not real ones. */
const MAX_TARGET_LENGTH = 256;
/** Labels rules can match, within these limits. */
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY_LENGTH = 128;
export const MAX_LABEL_VALUE_LENGTH = 1024;

/** `firing` acts; `resolved` is recorded as not firing. */
export const STATUSES = ["firing", "resolved"] as const;

const Identity = z.string().trim().min(1).max(MAX_TARGET_LENGTH);
const LabelValue = z.union([
  z.string().max(MAX_LABEL_VALUE_LENGTH),
  z.number().transform(String),
  z.boolean().transform(String),
]);

/**
 * The relay's own alert shape, for senders that let you write the body: every field is
 * optional but the body must be an object. `id` names the alert across notifications (its
 * episode); without it, the delivery's `webhook-id` does.
 */
export const RelayAlert = z.object({
  id: z.union([z.string().trim().min(1).max(MAX_ID_LENGTH), z.number().int().transform(String)]).optional(),
  title: z.string().max(MAX_TITLE_LENGTH).optional(),
  severity: z.string().max(64).optional(),
  status: z.enum(STATUSES).default("firing"),
  device_id: Identity.optional(),
  user_email: z.email().max(MAX_TARGET_LENGTH).optional(),
  registration_id: Identity.optional(),
  hostname: Identity.optional(),
  labels: z
    .record(z.string().min(1).max(MAX_LABEL_KEY_LENGTH), LabelValue)
    .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
    .optional(),
});

export type RelayAlert = z.output<typeof RelayAlert>;
