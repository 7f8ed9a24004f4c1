/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cloudflare } from "../../src/sources/cloudflare/adapter";
import dashboardTest from "../../src/sources/cloudflare/fixtures/dashboard-test.json?raw";
import connectivity from "../../src/sources/cloudflare/fixtures/device-connectivity-anomaly.start.json?raw";
import latency from "../../src/sources/cloudflare/fixtures/dex-test-latency.start.json?raw";
import availabilityEnd from "../../src/sources/cloudflare/fixtures/dex-test-low-availability.end.json?raw";
import availability from "../../src/sources/cloudflare/fixtures/dex-test-low-availability.start.json?raw";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader } from "./adapter-suite";

/**
 * The envelope of every fixture is Cloudflare's documented webhook payload; the `data` of
 * the DEX alert types is not published, so theirs carries the fields the DEX notification
 * filters name (test, colo, platform, version, SLO, alert configuration).
 */
const HEADER = "cf-webhook-auth";

function deliver(body: string, contentType = "application/json") {
  return Promise.resolve(rawDelivery(body, { [HEADER]: env.CLOUDFLARE_NOTIFICATIONS_SECRET }, contentType));
}

/** The availability fixture with `change` applied. */
function availabilityWith(change: (notification: Record<string, any>) => void): string {
  const notification = JSON.parse(availability);
  change(notification);
  return JSON.stringify(notification);
}

describeSourceAdapter({
  adapter: cloudflare,
  secretBindings: ["CLOUDFLARE_NOTIFICATIONS_SECRET"],
  deliver,
  withWrongAuth: async (delivery) => withHeader(delivery, HEADER, "secret-of-another-destination"),
  withoutAuth: (delivery) => withoutHeader(delivery, HEADER),
  authCoversBody: false,
  firing: [
    {
      name: "DEX test low availability starts",
      body: availability,
      alerts: [
        {
          title: "DEX test Intranet portal (HTTP) is below its 98.0% availability SLO: 91.4% over the last 5 minutes in FRA.",
          episode: "cloudflare:4f2b6c1d8e9a4b3c9d0e1f2a3b4c5d6e",
          status: "ALERT_STATE_EVENT_START",
          labels: {
            alert_type: "synthetic_test_low_availability_alert",
            policy_name: "NOC: intranet availability",
            policy_id: "749b911ea5d04344a58e45edd099b328",
            account_name: "Example Corp",
            account_tag: "9035f53656c247e895c5a6939ae8a0e0",
            test_name: "Intranet portal (HTTP)",
            test_id: "0c7d3a4e-5b1f-4e2a-9d6c-8f3b2a1e7c40",
            slo: "98.0",
            availability: "91.4",
            colo: "FRA",
            platform: "windows",
          },
          target: {},
        },
      ],
    },
    {
      name: "DEX test latency starts",
      body: latency,
      alerts: [
        {
          title: "DEX test Intranet portal (traceroute): round trip time spiked at AMS (z-score 4.1).",
          episode: "cloudflare:a1b2c3d4e5f64789a0b1c2d3e4f5a6b7",
          status: "ALERT_STATE_EVENT_START",
          labels: {
            alert_type: "synthetic_test_latency_alert",
            policy_name: "NOC: intranet latency",
            policy_id: "5d0c8e7f6a1b4c2d9e3f4a5b6c7d8e9f",
            account_name: "Example Corp",
            account_tag: "9035f53656c247e895c5a6939ae8a0e0",
            test_name: "Intranet portal (traceroute)",
            test_id: "6a1e9b2c-3d4f-4a5b-8c7d-2e1f0a9b8c71",
            alert_configuration: "Latency spike",
            colo: "AMS",
            platform: "mac",
            z_score: "4.1",
          },
          target: {},
        },
      ],
    },
    {
      name: "a device connectivity anomaly starts",
      body: connectivity,
      alerts: [
        {
          title: "Device connectivity anomaly: connected devices dropped at LHR (z-score -4.6).",
          episode: "cloudflare:7e8f9a0b1c2d4e3f8a9b0c1d2e3f4a5b",
          status: "ALERT_STATE_EVENT_START",
          labels: {
            alert_type: "device_connectivity_anomaly_alert",
            policy_name: "NOC: WARP connectivity",
            policy_id: "2b3c4d5e6f7a4b8c9d0e1f2a3b4c5d6e",
            account_name: "Example Corp",
            account_tag: "9035f53656c247e895c5a6939ae8a0e0",
            alert_configuration: "Connectivity drop",
            colo: "LHR",
            platform: "windows",
            version: "2025.9.558.0",
            mode: "warp",
            z_score: "-4.6",
          },
          target: {},
        },
      ],
    },
  ],
  notFiring: [
    { name: "DEX test low availability ends", body: availabilityEnd },
    { name: "the dashboard's test delivery", body: dashboardTest, ignored: /^test delivery received$/ },
  ],
  malformed: [
    { name: "data is a list", body: availabilityWith((n) => (n.data = ["FRA"])), field: "data" },
    { name: "ts is text", body: availabilityWith((n) => (n.ts = "2026-11-25T09:00:00Z")), field: "ts" },
    { name: "alert_event is not text", body: availabilityWith((n) => (n.alert_event = 1)), field: "alert_event" },
    { name: "text is not text", body: JSON.stringify({ text: { message: "hello" } }), field: "text" },
  ],
  sameEpisode: [{ name: "the start and the end of one alert", first: () => deliver(availability), again: () => deliver(availabilityEnd) }],
  newEpisode: [
    {
      name: "the same policy alerting again under a new correlation id",
      first: () => deliver(availability),
      again: () => deliver(availabilityWith((n) => (n.alert_correlation_id = "9f8e7d6c5b4a4938a7b6c5d4e3f2a1b0"))),
    },
  ],
});

describe("cloudflare source quirks", () => {
  it("lets the notification's own alert_type win over a data field of the same name", async () => {
    const body = availabilityWith((n) => (n.data.alert_type = "spoofed"));
    const [alert] = (await cloudflare.receive(await deliver(body))).alerts;
    expect(alert!.labels.alert_type).toBe("synthetic_test_low_availability_alert");
  });

  it("skips nested data and keeps the episode without a correlation id stable across retries", async () => {
    const body = availabilityWith((n) => {
      n.data.scripts = [{ name: "x" }];
      delete n.alert_correlation_id;
    });
    const [first] = (await cloudflare.receive(await deliver(body))).alerts;
    const [again] = (await cloudflare.receive(await deliver(body))).alerts;
    expect(first!.labels).not.toHaveProperty("scripts");
    expect(first!.episode).toMatch(/^cloudflare:body:[0-9a-f]{64}$/);
    expect(again!.episode).toBe(first!.episode);
  });

  it("fires on a notification without alert_event, as older alert types send", async () => {
    const [alert] = (await cloudflare.receive(await deliver(availabilityWith((n) => delete n.alert_event)))).alerts;
    expect(alert).toMatchObject({ firing: true, status: "notification" });
  });

  it("accepts any of several secrets, while a destination is being replaced", async () => {
    const rotating = { ...env, CLOUDFLARE_NOTIFICATIONS_SECRET: "old-destination-secret, new-destination-secret" } as Env;
    for (const secret of ["old-destination-secret", "new-destination-secret"]) {
      await expect(cloudflare.verify(rawDelivery(availability, { [HEADER]: secret }), rotating, new Date())).resolves.toBeUndefined();
    }
  });
});
