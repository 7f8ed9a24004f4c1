import type { AlertTarget, NormalizedAlert } from "../../model/alert";
import type { SourceAdapter } from "../adapter";
import { bearerAuth } from "../bearer";
import { normalizeId } from "../ids";
import { normalizeSeverity } from "../severity";
import { alertTarget, parseBody } from "../toolkit";
import { DatadogNotification, FIRING_TRANSITIONS } from "./schema";
import { firstTag, parseTags, tagLabels, type Tags } from "./tags";

const UNTITLED = "(untitled Datadog alert)";

/**
 * Datadog monitor notifications through the Webhooks integration, authenticated with an
 * `Authorization: Bearer` custom header. Datadog has no fixed body: the user pastes the
 * relay's template (DATADOG_PAYLOAD_TEMPLATE in ./template.ts). The episode is the monitor
 * and its alert cycle, which stays the same from trigger to recovery, so a Re-Triggered or
 * Renotify notification never acts twice.
 *
 * Fields the template's author added on purpose (`severity`, `device_id`, `user_email`,
 * `registration_id`) win over what tags say; tags win over the `$HOSTNAME` and `$PRIORITY`
 * of the default template, since they are what the monitor is grouped by.
 * @see https://docs.datadoghq.com/integrations/webhooks/
 */
export const datadog: SourceAdapter = {
  name: "datadog",
  contentTypes: ["application/json"],
  verify: bearerAuth("DATADOG_TOKEN"),

  async receive(delivery) {
    return { alerts: [toAlert(parseBody(DatadogNotification, delivery.body))] };
  },
};

function toAlert(notification: DatadogNotification): NormalizedAlert {
  const tags = parseTags(notification.tags);
  const labels = tagLabels(tags);
  if (notification.scope) labels.scope = notification.scope;
  if (notification.priority) labels.priority = notification.priority;

  const alert: NormalizedAlert = {
    source: "datadog",
    episode: `datadog:${normalizeId(notification.alert_id)}:${normalizeId(notification.cycle)}`,
    title: notification.title ?? UNTITLED,
    severity: normalizeSeverity(notification.severity) ?? normalizeSeverity(notification.priority) ?? normalizeSeverity(firstTag(tags, "severity")),
    firing: FIRING_TRANSITIONS.includes(notification.transition.toLowerCase().replace(/[^a-z]/g, "")),
    status: notification.transition,
    labels,
    target: targetOf(notification, tags),
  };
  const refs: Record<string, string> = {};
  if (notification.id) refs.event_id = notification.id;
  if (notification.link) refs.link = notification.link;
  if (Object.keys(refs).length > 0) alert.refs = refs;
  return alert;
}

function targetOf(notification: DatadogNotification, tags: Tags): AlertTarget {
  return alertTarget({
    device_id: notification.device_id ?? firstTag(tags, "device_id"),
    user_email: notification.user_email ?? firstTag(tags, "user_email"),
    registration_id: notification.registration_id ?? firstTag(tags, "registration_id"),
    hostname: firstTag(tags, "hostname", "host") ?? notification.hostname,
  });
}
