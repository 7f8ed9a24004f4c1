import * as z from "../../model/zod";
import { MAX_LABEL_VALUE_LENGTH, MAX_REF_LENGTH, MAX_VENDOR_ID_LENGTH } from "../limits";
import { lenient } from "../toolkit";

/**
 * Event types that start a capture. Everything else PagerDuty sends (acknowledged,
 * resolved, escalated, priority_updated, annotated...) is answered 2xx and ignored.
 */
export const CAPTURING_EVENT_TYPES = ["incident.triggered", "incident.reopened"] as const;

const MAX_EVENT_TYPE_LENGTH = 100;
/** Event and incident ids become part of the stored episode key; PagerDuty's are ~26 characters. */
const Id = z.string().check(z.minLength(1), z.maxLength(MAX_VENDOR_ID_LENGTH));

/** PagerDuty's test delivery, sent when a subscription is created or "Send test event" is used. */
export const PING_EVENT_TYPE = "pagey.ping";

/**
 * The part of every v3 webhook event the relay reads before it knows the event type.
 * `data` is left unchecked here so that an event the relay ignores is never refused over
 * a field it does not use: three refusals in a row disable the subscription.
 * @see https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/01-Overview.md
 */
export const PagerDutyEnvelope = z.object({
  event: z.object({
    id: Id,
    // Echoed in the "ignored" reason, so bounded; real event types are a few words long.
    event_type: z.string().check(z.minLength(1), z.maxLength(MAX_EVENT_TYPE_LENGTH)),
    // Read only for events that start a capture, where a missing one counts as too old.
    occurred_at: lenient(z.string().check(z.maxLength(64))),
    data: z.unknown(),
  }),
});

/** A reference object (`service`, `priority`) of which only the display name is used; a longer one is dropped. */
const Summarized = z.object({ summary: z.string().check(z.maxLength(MAX_LABEL_VALUE_LENGTH)) });

/**
 * An `incident.triggered` or `incident.reopened` event. Only the incident id and title are
 * required: the id names the episode and the title is where rules find the device. The
 * other fields only become labels and severity hints: a value of an unexpected shape is
 * dropped instead of refusing the event.
 */
export const PagerDutyIncidentEvent = z.object({
  event: z.object({
    id: Id,
    event_type: z.enum(CAPTURING_EVENT_TYPES),
    data: z.object({
      id: Id,
      title: z.string().check(z.minLength(1)),
      html_url: lenient(z.string().check(z.maxLength(MAX_REF_LENGTH))),
      number: lenient(z.number()),
      urgency: lenient(z.string().check(z.maxLength(64))),
      priority: lenient(z.nullable(Summarized)),
      service: lenient(Summarized),
    }),
  }),
});

export type PagerDutyIncidentEvent = z.infer<typeof PagerDutyIncidentEvent>;
