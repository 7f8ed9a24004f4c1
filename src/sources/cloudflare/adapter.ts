import { sha256Hex } from "../../crypto/hmac";
import type { NormalizedAlert } from "../../model/alert";
import type { SourceAdapter } from "../adapter";
import { requiredSecrets } from "../bearer";
import { normalizeSeverity } from "../severity";
import { boundedLabels, cutTitle, parseBody } from "../toolkit";
import { verifyCloudflareSecret } from "./auth";
import { ALERT_ENDED, CloudflareNotification, DEX_ALERT_TYPES } from "./schema";

const SECRET_NAME = "CLOUDFLARE_NOTIFICATIONS_SECRET";

const UNTITLED = "(untitled Cloudflare notification)";

/** The notification's own fields that become labels; they win over `data`'s of the same name. */
const ENVELOPE_LABELS = ["alert_type", "policy_name", "policy_id"] as const;

/**
 * Cloudflare Notifications webhooks (a generic webhook destination), above all the DEX
 * alerts: device connectivity anomaly, DEX test latency, DEX test low availability. These
 * name a test, a data center or a policy, not a device, so the alert has no target of its
 * own: a rule reaches devices through its `targets`.
 *
 * The destination's secret arrives verbatim in `cf-webhook-auth`. One alert per
 * notification; its episode is `alert_correlation_id`, shared by the start and the end of
 * one alert, and only `ALERT_STATE_EVENT_START` (or a notification without an event) fires.
 * The dashboard's "Save and Test" delivery carries only `text`: answered 2xx, nothing done.
 * @see https://developers.cloudflare.com/notifications/reference/webhook-payload-schema/
 */
export const cloudflare: SourceAdapter = {
  name: "cloudflare",
  contentTypes: ["application/json"],

  async verify(delivery, env) {
    await verifyCloudflareSecret(delivery.headers, requiredSecrets(env, SECRET_NAME));
  },

  async receive(delivery) {
    const notification = parseBody(CloudflareNotification, delivery.body);
    if (isTestDelivery(notification)) return { alerts: [], ignored: "test delivery received" };
    return { alerts: [await toAlert(notification, delivery.body)] };
  },
};

/** The dashboard's test, or anything else that names no alert: no type, no event, no data. */
function isTestDelivery(notification: CloudflareNotification): boolean {
  return !notification.alert_type && !notification.alert_event && !notification.data;
}

async function toAlert(notification: CloudflareNotification, body: string): Promise<NormalizedAlert> {
  const labels = labelsOf(notification);
  const severity = notification.data?.severity;
  return {
    source: "cloudflare",
    // Without a correlation id the notification stands alone; a retry is the same body.
    episode: `cloudflare:${notification.alert_correlation_id?.trim() || `body:${await sha256Hex(body)}`}`,
    title: titleOf(notification),
    severity: typeof severity === "string" ? normalizeSeverity(severity) : undefined,
    firing: notification.alert_event !== ALERT_ENDED,
    status: notification.alert_event ?? "notification",
    labels,
    target: {},
  };
}

function titleOf(notification: CloudflareNotification): string {
  const type = notification.alert_type;
  const known = type && Object.hasOwn(DEX_ALERT_TYPES, type) ? DEX_ALERT_TYPES[type as keyof typeof DEX_ALERT_TYPES] : undefined;
  return cutTitle(notification.text?.trim() || notification.name?.trim() || notification.policy_name?.trim() || known || type || UNTITLED);
}

/**
 * `alert_type`, `policy_name`, `policy_id` and the top-level scalars of `data` (numbers and
 * booleans as text); the notification's own fields win over `data`'s of the same name.
 * Nested values are skipped: rules match flat text. Labels past the bounds are dropped
 * rather than refused, since the notification itself is well-formed.
 */
function labelsOf(notification: CloudflareNotification): Record<string, string> {
  const own = ENVELOPE_LABELS.flatMap((key): [string, string][] => {
    const value = notification[key];
    return value === undefined ? [] : [[key, value]];
  });
  const fromData = Object.entries(notification.data ?? {}).flatMap(([key, value]): [string, string][] => {
    if ((ENVELOPE_LABELS as readonly string[]).includes(key)) return [];
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? [[key, String(value)]] : [];
  });
  return boundedLabels([...own, ...fromData]);
}
