/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import acknowledged from "../../src/sources/pagerduty/fixtures/incident.acknowledged.json?raw";
import reopened from "../../src/sources/pagerduty/fixtures/incident.reopened.json?raw";
import resolved from "../../src/sources/pagerduty/fixtures/incident.resolved.json?raw";
import triggered from "../../src/sources/pagerduty/fixtures/incident.triggered.json?raw";
import ping from "../../src/sources/pagerduty/fixtures/pagey.ping.json?raw";
import { pagerduty } from "../../src/sources/pagerduty/adapter";
import { signPagerDuty } from "../helpers/sign";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader } from "./adapter-suite";

const SIGNATURE = "X-PagerDuty-Signature";

async function deliver(body: string) {
  return rawDelivery(body, {
    [SIGNATURE]: await signPagerDuty(body, env.PAGERDUTY_WEBHOOK_SECRET),
    "X-Webhook-Id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
  });
}

/** A later event about the incident of `fixture`, as PagerDuty would send it. */
function laterEvent(fixture: string, eventType: string, eventId: string): string {
  const event = JSON.parse(fixture);
  event.event.id = eventId;
  event.event.event_type = eventType;
  event.event.occurred_at = "2026-03-13T08:15:02.411Z";
  return JSON.stringify(event);
}

/** The triggered fixture with one field of the incident replaced. */
function triggeredWith(field: string, value: unknown): string {
  const event = JSON.parse(triggered);
  event.event.data[field] = value;
  return JSON.stringify(event);
}

describeSourceAdapter({
  adapter: pagerduty,
  // The fixtures' events occurred on 2026-03-12 and 13: within PagerDuty's retry window of this clock.
  now: () => new Date("2026-03-13T10:00:00Z"),
  secretBindings: ["PAGERDUTY_WEBHOOK_SECRET"],
  deliver,
  withWrongAuth: async (delivery) => withHeader(delivery, SIGNATURE, await signPagerDuty(delivery.body, "pd-secret-revoked")),
  withoutAuth: (delivery) => withoutHeader(delivery, SIGNATURE),
  authCoversBody: true,
  firing: [
    {
      name: "incident.triggered",
      body: triggered,
      alerts: [
        {
          title: "VPN packet loss above 8% for jane.doe@example.com",
          episode: "pagerduty:q2y4rwz6e8tj1k",
          severity: "critical",
          status: "triggered",
          labels: { service: "Corporate VPN", urgency: "high", priority: "P1", incident_number: "4812" },
          target: {},
          refs: {
            incident_id: "Q2Y4RWZ6E8TJ1K",
            incident_url: "https://acme.pagerduty.com/incidents/Q2Y4RWZ6E8TJ1K",
          },
        },
      ],
    },
    {
      name: "incident.reopened",
      body: reopened,
      alerts: [
        {
          title: "Slow DNS resolution on LT-0442 (marco.rossi@example.com)",
          episode: "pagerduty:q3ls7cb1vnxk0p:reopened:01den5tq2zc0d9f0w3xrm8k4np",
          severity: "warning",
          status: "reopened",
          labels: { service: "Endpoint Health", urgency: "low", incident_number: "4790" },
          target: {},
          refs: {
            incident_id: "Q3LS7CB1VNXK0P",
            incident_url: "https://acme.pagerduty.com/incidents/Q3LS7CB1VNXK0P",
          },
        },
      ],
    },
  ],
  notFiring: [
    { name: "incident.acknowledged", body: acknowledged, ignored: /^incident\.acknowledged does not start a capture$/ },
    { name: "incident.resolved", body: resolved, ignored: /^incident\.resolved does not start a capture$/ },
    { name: "pagey.ping", body: ping, ignored: /^pagey\.ping: test delivery received$/ },
  ],
  malformed: [
    { name: "the event envelope is missing", body: JSON.stringify({ messages: [] }), field: "event" },
    { name: "the incident id is not a string", body: triggeredWith("id", 4812), field: "event.data.id" },
    { name: "the incident has no title", body: triggeredWith("title", undefined), field: "event.data.title" },
  ],
  newEpisode: [
    {
      name: "the incident is reopened after it was triggered",
      first: () => deliver(triggered),
      again: () => deliver(laterEvent(triggered, "incident.reopened", "01DEN7QK4M1R8S0T2V6X9Z3B5D")),
    },
    {
      name: "the incident is reopened a second time",
      first: () => deliver(reopened),
      again: () => deliver(laterEvent(reopened, "incident.reopened", "01DEN9C2W7H4J6K8M0N1P3Q5RS")),
    },
  ],
});
