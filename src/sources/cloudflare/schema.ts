import * as z from "../../model/zod";
import { MAX_VENDOR_ID_LENGTH } from "../limits";

/** Longest `text` (or name) read; a title longer than the relay keeps is cut, never refused. */
const MAX_TEXT_LENGTH = 64 * 1024;

/** `alert_event` of a notification that opens an episode; `…_END` closes it. */
export const ALERT_STARTED = "ALERT_STATE_EVENT_START";
export const ALERT_ENDED = "ALERT_STATE_EVENT_END";

/**
 * Cloudflare's DEX alert types (`alert_type`), as the Notifications API names them. They
 * describe a DEX test, a data center or a policy, never one device.
 * @see https://developers.cloudflare.com/cloudflare-one/insights/dex/notifications/
 */
export const DEX_ALERT_TYPES = {
  device_connectivity_anomaly_alert: "Device connectivity anomaly",
  synthetic_test_latency_alert: "DEX test latency",
  synthetic_test_low_availability_alert: "DEX test low availability",
} as const;

const Id = z.optional(z.string().check(z.maxLength(MAX_VENDOR_ID_LENGTH)));
const Text = z.optional(z.string().check(z.maxLength(MAX_TEXT_LENGTH)));

/**
 * A Cloudflare Notifications webhook. Only `text` is always there: the dashboard's test
 * delivery carries nothing else, and Cloudflare says `account_id`, `policy_id` and
 * `alert_type` may be absent. `data` varies by alert type.
 * @see https://developers.cloudflare.com/notifications/reference/webhook-payload-schema/
 */
export const CloudflareNotification = z.object({
  name: Text,
  text: Text,
  data: z.optional(z.record(z.string(), z.unknown())),
  ts: z.optional(z.number().check(z.int(), z.nonnegative())),
  account_id: Id,
  policy_id: Id,
  policy_name: Text,
  alert_type: Id,
  alert_correlation_id: Id,
  alert_event: Id,
});

export type CloudflareNotification = z.output<typeof CloudflareNotification>;
