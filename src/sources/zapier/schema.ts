import * as z from "zod";
import { MAX_ID_LENGTH, MAX_TITLE_LENGTH } from "../limits";

/** Fields with a meaning to the relay; every other field of the body becomes a label. */
export const KNOWN_FIELDS = [
  "id",
  "title",
  "severity",
  "status",
  "device_id",
  "user_email",
  "registration_id",
  "hostname",
] as const;

/**
 * `status` values (compared case-insensitively) that mean the alert is over; anything
 * else, including no status at all, is firing.
 */
export const NOT_FIRING_STATUSES: readonly string[] = [
  "resolved",
  "recovered",
  "ok",
  "closed",
  "acknowledged",
  "inactive",
  "cleared",
];

const Text = z.string().min(1).max(MAX_ID_LENGTH);

/**
 * The known fields of a Zapier delivery, once blank values are dropped and strings
 * trimmed. A title past the bound in ../limits is refused rather than cut, so the Zap gets
 * fixed; fields beyond the known ones become labels within the label bounds. There is no fixed schema: the Zap's author maps whichever of these fields the
 * triggering app offers.
 */
export const ZapierAlertFields = z.object({
  id: z.union([Text, z.number().transform(String)]).optional(),
  title: z.string().max(MAX_TITLE_LENGTH).optional(),
  severity: Text.optional(),
  status: Text.optional(),
  device_id: Text.optional(),
  user_email: z.email().optional(),
  registration_id: Text.optional(),
  hostname: Text.optional(),
});

export type ZapierAlertFields = z.infer<typeof ZapierAlertFields>;
