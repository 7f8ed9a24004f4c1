import * as z from "../../model/zod";
import { MAX_ID_LENGTH, MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_TARGET_LENGTH, MAX_TITLE_LENGTH } from "../limits";

/** `firing` acts; `resolved` is recorded as not firing. */
export const STATUSES = ["firing", "resolved"] as const;

const Identity = z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(MAX_TARGET_LENGTH)));
const LabelValue = z.union([
  z.string().check(z.maxLength(MAX_LABEL_VALUE_LENGTH)),
  z.pipe(z.number(), z.transform(String)),
  z.pipe(z.boolean(), z.transform(String)),
]);

/**
 * The relay's own alert shape, for senders that let you write the body (and can be fixed:
 * what is past the bounds in ../limits is refused): every field is
 * optional but the body must be an object. `id` names the alert across notifications (its
 * episode); without it, the delivery's `webhook-id` does.
 */
export const RelayAlert = z.object({
  id: z.optional(z.union([z.string().check(z.trim(), z.minLength(1), z.maxLength(MAX_ID_LENGTH)), z.pipe(z.number().check(z.int()), z.transform(String))])),
  title: z.optional(z.string().check(z.maxLength(MAX_TITLE_LENGTH))),
  severity: z.optional(z.string().check(z.maxLength(64))),
  status: z._default(z.enum(STATUSES), "firing"),
  device_id: Identity,
  user_email: z.optional(z.email().check(z.maxLength(MAX_TARGET_LENGTH))),
  registration_id: Identity,
  hostname: Identity,
  labels: z.optional(
    z
      .record(z.string().check(z.minLength(1), z.maxLength(MAX_LABEL_KEY_LENGTH)), LabelValue)
      .check(z.refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)),
  ),
});

export type RelayAlert = z.output<typeof RelayAlert>;
