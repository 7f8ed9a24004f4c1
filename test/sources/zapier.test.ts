/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import helpdeskTicket from "../../src/sources/zapier/fixtures/helpdesk-ticket.json?raw";
import selfServiceForm from "../../src/sources/zapier/fixtures/self-service-form.txt?raw";
import ticketClosed from "../../src/sources/zapier/fixtures/ticket-closed.txt?raw";
import { zapier } from "../../src/sources/zapier/adapter";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader } from "./adapter-suite";

const FORM = "application/x-www-form-urlencoded";

function deliver(body: string, contentType = "application/json", headers: Record<string, string> = {}) {
  return Promise.resolve(rawDelivery(body, { Authorization: `Bearer ${env.ZAPIER_TOKEN}`, ...headers }, contentType));
}

/** The JSON fixture with some fields replaced, as a later run of the same Zap would send it. */
function ticketWith(fields: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(helpdeskTicket), ...fields });
}

/** The form fixture with one field replaced. */
function formWith(field: string, value: string): string {
  const form = new URLSearchParams(selfServiceForm);
  form.set(field, value);
  return form.toString();
}

describeSourceAdapter({
  adapter: zapier,
  secretBindings: ["ZAPIER_TOKEN"],
  deliver: (body, contentType) => deliver(body, contentType),
  withWrongAuth: async (delivery) => withHeader(delivery, "Authorization", "Bearer zapier-token-from-another-zap"),
  withoutAuth: (delivery) => withoutHeader(delivery, "Authorization"),
  authCoversBody: false,
  firing: [
    {
      name: "a help-desk ticket as JSON",
      body: helpdeskTicket,
      alerts: [
        {
          title: "VPN keeps dropping packets for alex.kim@example.com",
          episode: "zapier:zd-88213",
          severity: "critical",
          status: "new",
          labels: {
            ticket_url: "https://acme.zendesk.com/agent/tickets/88213",
            requester_name: "Alex Kim",
            group: "IT Network",
            priority_score: "87",
            vip: "true",
          },
          target: { user_email: "alex.kim@example.com", hostname: "MBP-AKIM-14" },
        },
      ],
    },
    {
      name: "a self-service form, form-encoded",
      body: selfServiceForm,
      contentType: FORM,
      alerts: [
        {
          title: "Wi-Fi drops every few minutes on LT-0442",
          episode: "zapier:6f169ce78b847c46b1731f062e78359da509334d2277f2b40544f5936bc60d67",
          severity: "warning",
          status: "open",
          labels: { form: "IT self-service", office: "Milan" },
          target: {
            device_id: "0f5c2b9e-7a41-4d3c-9e8a-1b2c3d4e5f60",
            user_email: "marco.rossi@example.com",
            hostname: "LT-0442",
          },
        },
      ],
    },
  ],
  notFiring: [{ name: "a closed ticket, form-encoded", body: ticketClosed, contentType: FORM }],
  malformed: [
    { name: "user_email is not an email address", body: ticketWith({ user_email: "Alex Kim" }), field: "user_email" },
    { name: "title is not text", body: ticketWith({ title: { text: "VPN down" } }), field: "title" },
    { name: "id is neither text nor a number", body: ticketWith({ id: ["ZD-88213"] }), field: "id" },
  ],
  sameEpisode: [
    {
      name: "the same ticket sent again after an edit",
      first: () => deliver(helpdeskTicket),
      again: () => deliver(ticketWith({ title: "VPN still dropping packets for alex.kim@example.com", priority_score: 91 })),
    },
    {
      name: "two runs of a Zap that send one Idempotency-Key",
      first: () => deliver(selfServiceForm, FORM, { "Idempotency-Key": "form-run-2026-03-12-0417" }),
      again: () => deliver(formWith("office", "Milan HQ"), FORM, { "Idempotency-Key": "form-run-2026-03-12-0417" }),
    },
  ],
  newEpisode: [
    {
      name: "two different form submissions without an id",
      first: () => deliver(selfServiceForm, FORM),
      again: () => deliver(formWith("title", "Wi-Fi drops again on LT-0442"), FORM),
    },
  ],
});
