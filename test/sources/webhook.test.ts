/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RawDelivery } from "../../src/sources/adapter";
import { webhook } from "../../src/sources/webhook/adapter";
import kioskFiring from "../../src/sources/webhook/fixtures/kiosk-checkin-slow.firing.json?raw";
import firing from "../../src/sources/webhook/fixtures/vpn-packet-loss.firing.json?raw";
import resolved from "../../src/sources/webhook/fixtures/vpn-packet-loss.resolved.json?raw";
import { MAX_LABELS } from "../../src/sources/limits";
import { standardWebhookHeaders } from "../helpers/sign";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader, type SourceAdapterSpec } from "./adapter-suite";

/** A fixed clock, so the signed timestamps below are always fresh. */
const NOW = new Date("2026-11-25T09:12:00Z");
const NOW_SECONDS = NOW.getTime() / 1000;

/** The firing fixture with some fields replaced. */
function alertWith(fields: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(firing), ...fields });
}

function spec(
  deliver: (body: string, id?: string) => Promise<RawDelivery>,
): Omit<SourceAdapterSpec, "secretBindings" | "withWrongAuth" | "withoutAuth" | "authCoversBody"> {
  return {
    adapter: webhook,
    deliver: (body) => deliver(body),
    now: () => NOW,
    firing: [
      {
        name: "an alert naming the user and the host",
        body: firing,
        alerts: [
          {
            title: "VPN packet loss 11% for jane.doe@example.com",
            episode: "webhook:NOC-2291",
            severity: "critical",
            status: "firing",
            labels: { service: "corporate-vpn", team: "it-network", check: "packet-loss" },
            target: { user_email: "jane.doe@example.com", hostname: "JANE-MBP" },
          },
        ],
      },
      {
        name: "an alert naming a registration of a shared device, with a numeric id and typed labels",
        body: kioskFiring,
        alerts: [
          {
            title: "Check-in app slow on the lobby kiosk",
            episode: "webhook:88213",
            severity: "warning",
            status: "firing",
            labels: { site: "lobby", latency_ms: "912", synthetic: "true" },
            target: {
              device_id: "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03",
              user_email: "night.shift@example.com",
              registration_id: "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d32",
            },
          },
        ],
      },
    ],
    notFiring: [{ name: "the alert resolved", body: resolved }],
    malformed: [
      { name: "status is neither firing nor resolved", body: alertWith({ status: "acknowledged" }), field: "status" },
      { name: "user_email is not an email address", body: alertWith({ user_email: "Jane Doe" }), field: "user_email" },
      { name: "labels is a list", body: alertWith({ labels: ["team=it"] }), field: "labels" },
      { name: "a label is an object", body: alertWith({ labels: { team: { name: "it" } } }), field: "labels.team" },
      {
        name: `more than ${MAX_LABELS} labels`,
        body: alertWith({ labels: Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`l${i}`, "x"])) }),
        field: "labels",
      },
      { name: "title is not text", body: alertWith({ title: ["VPN"] }), field: "title" },
    ],
    sameEpisode: [
      { name: "the same alert re-sent with a new title", first: () => deliver(firing), again: () => deliver(alertWith({ title: "VPN packet loss 14%" })) },
      {
        name: "a retry of one delivery without an id (same webhook-id)",
        first: () => deliver(alertWith({ id: undefined }), "msg_2ZxDemo1"),
        again: () => deliver(alertWith({ id: undefined }), "msg_2ZxDemo1"),
      },
    ],
    newEpisode: [
      {
        name: "two deliveries without an id",
        first: () => deliver(alertWith({ id: undefined }), "msg_2ZxDemo1"),
        again: () => deliver(alertWith({ id: undefined }), "msg_2ZxDemo2"),
      },
    ],
  };
}

describe("signed the Standard Webhooks way (WEBHOOK_SECRET)", () => {
  const deliver = async (body: string, id?: string) =>
    rawDelivery(body, await standardWebhookHeaders(body, [env.WEBHOOK_SECRET], { id, timestamp: NOW_SECONDS }));
  describeSourceAdapter({
    ...spec(deliver),
    secretBindings: ["WEBHOOK_SECRET"],
    withWrongAuth: async (delivery) => {
      const other = await standardWebhookHeaders(delivery.body, [`whsec_${btoa("a revoked webhook signing key")}`], { timestamp: NOW_SECONDS });
      return withHeader(
        withHeader(withHeader(delivery, "webhook-id", other["webhook-id"]!), "webhook-timestamp", other["webhook-timestamp"]!),
        "webhook-signature",
        other["webhook-signature"]!,
      );
    },
    withoutAuth: (delivery) => withoutHeader(delivery, "webhook-signature"),
    authCoversBody: true,
  });
});

describe("authenticated with WEBHOOK_TOKEN", () => {
  const deliver = async (body: string, id?: string) => rawDelivery(body, { Authorization: `Bearer ${env.WEBHOOK_TOKEN}`, ...(id ? { "webhook-id": id } : {}) });
  describeSourceAdapter({
    ...spec(deliver),
    secretBindings: ["WEBHOOK_TOKEN"],
    withWrongAuth: async (delivery) => withHeader(delivery, "Authorization", "Bearer token-of-another-tool"),
    withoutAuth: (delivery) => withoutHeader(delivery, "Authorization"),
    authCoversBody: false,
  });
});

describe("webhook source quirks", () => {
  it("uses webhook-id as the redelivery key, and only when it fits a KV key", async () => {
    const headers = await standardWebhookHeaders(firing, [env.WEBHOOK_SECRET], { id: "msg_2ZxDemo1", timestamp: NOW_SECONDS });
    expect((await webhook.receive(rawDelivery(firing, headers))).redeliveryKey).toBe("msg_2ZxDemo1");
    expect((await webhook.receive(rawDelivery(firing, { ...headers, "webhook-id": "w".repeat(129) }))).redeliveryKey).toBeUndefined();
  });

  it("names the episode by the alert's id, so a resolve closes what the firing opened", async () => {
    const [first] = (await webhook.receive(rawDelivery(firing))).alerts;
    const [last] = (await webhook.receive(rawDelivery(resolved))).alerts;
    expect(first!.episode).toBe("webhook:NOC-2291");
    expect(last!.episode).toBe(first!.episode);
  });

  it("takes a body without any field as an untitled firing alert that names no device", async () => {
    const [alert] = (await webhook.receive(rawDelivery("{}"))).alerts;
    expect(alert).toMatchObject({ title: "(untitled alert)", firing: true, status: "firing", labels: {}, target: {} });
  });
});
