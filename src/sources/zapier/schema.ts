import * as z from "../../model/zod";
import { MAX_ID_LENGTH, MAX_TITLE_LENGTH } from "../limits";

/** Fields with a meaning to the relay; every other field of the body becomes a label. */
export const KNOWN_FIELDS = ["id", "title", "severity", "status", "device_id", "user_email", "registration_id", "hostname"] as const;

/**
 * `status` values (compared case-insensitively) that mean the alert is over; anything
 * else, including no status at all, is firing.
 */
export const NOT_FIRING_STATUSES: readonly string[] = ["resolved", "recovered", "ok", "closed", "acknowledged", "inactive", "cleared"];

const Text = z.string().check(z.minLength(1), z.maxLength(MAX_ID_LENGTH));

/**
 * The known fields of a Zapier delivery, once blank values are dropped and strings
 * trimmed. A title past the bound in ../limits is refused rather than cut, so the Zap gets
 * fixed; fields beyond the known ones become labels within the label bounds. There is no fixed schema: the Zap's author maps whichever of these fields the
 * triggering app offers.
 */
export const ZapierAlertFields = z.object({
  id: z.optional(z.union([Text, z.pipe(z.number(), z.transform(String))])),
  title: z.optional(z.string().check(z.maxLength(MAX_TITLE_LENGTH))),
  severity: z.optional(Text),
  status: z.optional(Text),
  device_id: z.optional(Text),
  user_email: z.optional(z.email()),
  registration_id: z.optional(Text),
  hostname: z.optional(Text),
});

export type ZapierAlertFields = z.infer<typeof ZapierAlertFields>;
