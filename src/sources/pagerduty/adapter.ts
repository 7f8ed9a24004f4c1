import type { NormalizedAlert, Severity } from "../../model/alert";
import type { ReceivedAlerts, SourceAdapter } from "../adapter";
import { requiredSecrets } from "../bearer";
import { normalizeId } from "../ids";
import { MAX_REDELIVERY_KEY_LENGTH } from "../limits";
import { normalizeSeverity } from "../severity";
import { cutTitle, parseJson, parseOrRefuse } from "../toolkit";
import { pagerDutyEnricher } from "./enrich";
import { CAPTURING_EVENT_TYPES, PING_EVENT_TYPE, PagerDutyEnvelope, PagerDutyIncidentEvent } from "./schema";
import { PAGERDUTY_SIGNATURE_HEADER, verifyPagerDutySignature } from "./signature";

const SECRET_NAME = "PAGERDUTY_WEBHOOK_SECRET";

/** Same on every retry of one delivery (PagerDuty's are UUIDs), so the relay can drop retries it already took. */
const REDELIVERY_HEADER = "X-Webhook-Id";

/**
 * PagerDuty retries a delivery for 48 hours and no longer. Its signature carries no time,
 * so the signed `occurred_at` is what dates a delivery: an event older than this (plus a few
 * minutes of clock difference) can only be a replay of a captured delivery, and the keys
 * that would recognize it as one may have expired. It is answered 2xx and starts nothing.
 */
export const PAGERDUTY_RETRY_WINDOW_SECONDS = 48 * 3600;
const CLOCK_SKEW_SECONDS = 300;

/** Used when the incident has no priority the rules understand. */
const SEVERITY_BY_URGENCY: Record<string, Severity> = { high: "critical", low: "warning" };

/**
 * PagerDuty v3 webhooks. An incident that is triggered or reopened becomes one alert; the
 * device is named in the incident title, where rules find it. Every other event is
 * answered 2xx and ignored, because PagerDuty disables a subscription after three
 * refused deliveries in a row.
 * @see https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/01-Overview.md
 */
export const pagerduty: SourceAdapter = {
  name: "pagerduty",
  contentTypes: ["application/json"],

  async verify(delivery, env) {
    const secrets = requiredSecrets(env, SECRET_NAME);
    await verifyPagerDutySignature(delivery.bytes, delivery.headers.get(PAGERDUTY_SIGNATURE_HEADER), secrets);
  },

  async receive(delivery, now = new Date()) {
    const webhookId = normalizeId(delivery.headers.get(REDELIVERY_HEADER) ?? "");
    const redeliveryKey = webhookId && webhookId.length <= MAX_REDELIVERY_KEY_LENGTH ? webhookId : undefined;
    const json = parseJson(delivery.body);

    const { event } = parseOrRefuse(PagerDutyEnvelope, json);
    const eventType = event.event_type;
    if (!isCapturing(eventType)) {
      const ignored = eventType === PING_EVENT_TYPE ? `${PING_EVENT_TYPE}: test delivery received` : `${eventType} does not start a capture`;
      return withKey({ alerts: [], ignored }, redeliveryKey);
    }

    const stale = staleness(event.occurred_at, now);
    if (stale) return withKey({ alerts: [], ignored: stale, refused: true }, redeliveryKey);

    return withKey({ alerts: [toAlert(parseOrRefuse(PagerDutyIncidentEvent, json))] }, redeliveryKey);
  },

  enrich(alert, env) {
    return pagerDutyEnricher(env)?.(alert) ?? Promise.resolve(undefined);
  },
};

/** Why an event is too old to act on, or undefined when it is within PagerDuty's retry window. */
function staleness(occurredAt: string | undefined, now: Date): string | undefined {
  const time = occurredAt === undefined ? NaN : Date.parse(occurredAt);
  if (Number.isNaN(time)) return "the event has no occurred_at time: it cannot be told from a replay";
  if (now.getTime() - time > (PAGERDUTY_RETRY_WINDOW_SECONDS + CLOCK_SKEW_SECONDS) * 1000) {
    return `the event occurred more than ${PAGERDUTY_RETRY_WINDOW_SECONDS / 3600} hours ago, longer than PagerDuty retries: a replay starts nothing`;
  }
  return undefined;
}

function isCapturing(eventType: string): boolean {
  return (CAPTURING_EVENT_TYPES as readonly string[]).includes(eventType);
}

function withKey(received: ReceivedAlerts, redeliveryKey: string | undefined): ReceivedAlerts {
  return redeliveryKey ? { ...received, redeliveryKey } : received;
}

function toAlert({ event }: PagerDutyIncidentEvent): NormalizedAlert {
  const incident = event.data;
  const reopened = event.event_type === "incident.reopened";
  const labels: Record<string, string> = {};
  if (incident.service) labels.service = incident.service.summary;
  if (incident.urgency) labels.urgency = incident.urgency;
  if (incident.priority) labels.priority = incident.priority.summary;
  if (incident.number !== undefined) labels.incident_number = String(incident.number);

  const refs: Record<string, string> = { incident_id: incident.id };
  if (incident.html_url) refs.incident_url = incident.html_url;

  return {
    source: "pagerduty",
    // A reopened incident is a new episode of the same incident; retries of one reopen
    // carry the same event id, so they still collapse into one.
    episode: reopened ? `pagerduty:${normalizeId(incident.id)}:reopened:${normalizeId(event.id)}` : `pagerduty:${normalizeId(incident.id)}`,
    // Cut, never refused: three refusals in a row disable the subscription.
    title: cutTitle(incident.title),
    severity: normalizeSeverity(incident.priority?.summary) ?? SEVERITY_BY_URGENCY[incident.urgency?.toLowerCase() ?? ""],
    firing: true,
    status: reopened ? "reopened" : "triggered",
    labels,
    // Rules extract the device from the title: the webhook carries no alert details.
    target: {},
    refs,
  };
}
