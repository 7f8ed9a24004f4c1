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
          status: "ALERT_STATE_EVENT_START",
          labels: expect.objectContaining({ alert_type: "synthetic_test_latency_alert", colo: "AMS", z_score: "4.1" }),
          target: {},
        },
      ],
    },
    {
      name: "a device connectivity anomaly starts",
      body: connectivity,
      alerts: [
        {
          labels: expect.objectContaining({ alert_type: "device_connectivity_anomaly_alert", alert_configuration: "Connectivity drop", z_score: "-4.6" }),
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
  sameEpisode: [
    { name: "the start and the end of one alert", first: () => deliver(availability), again: () => deliver(availabilityEnd) },
  ],
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
