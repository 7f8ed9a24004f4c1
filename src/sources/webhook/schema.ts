import * as z from "zod";
import { MAX_ID_LENGTH, MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_TARGET_LENGTH, MAX_TITLE_LENGTH } from "../limits";

/** `firing` acts; `resolved` is recorded as not firing. */
export const STATUSES = ["firing", "resolved"] as const;

const Identity = z.string().trim().min(1).max(MAX_TARGET_LENGTH);
const LabelValue = z.union([
  z.string().max(MAX_LABEL_VALUE_LENGTH),
  z.number().transform(String),
  z.boolean().transform(String),
]);

/**
 * The relay's own alert shape, for senders that let you write the body (and can be fixed:
 * what is past the bounds in ../limits is refused): every field is
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
