/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Device } from "../../src/model/dex-api";
import availabilityEnd from "../../src/sources/cloudflare/fixtures/dex-test-low-availability.end.json?raw";
import availability from "../../src/sources/cloudflare/fixtures/dex-test-low-availability.start.json?raw";
import latency from "../../src/sources/cloudflare/fixtures/dex-test-latency.start.json?raw";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { deliveryRecord, isolateEachTest, post, runConsumer } from "../helpers/relay";
import { standardWebhookHeaders } from "../helpers/sign";

/**
 * Alerts that name no device reach the devices a rule lists in `targets`: the shipped rule
 * `dex-alert-probe-warp-diag` sends Cloudflare's DEX notifications to BUILD-LINUX-07 and to
 * the lobby kiosk's front-desk registration.
 */
const BUILD: Device = {
  ...JANE,
  deviceId: "9b3e6c1d-4a8f-4d2b-8c7e-6f5a4b3c2d06",
  deviceName: "BUILD-LINUX-07",
  personEmail: "priya.shah@example.com",
  platform: "linux",
  registrationId: "a5d2b9e7-8c3f-4a1d-b6e9-5c4b3a2f1e06",
};
const KIOSK_DAY: Device = {
  ...JANE,
  deviceId: "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03",
  deviceName: "LOBBY-KIOSK-01",
  personEmail: "front.desk@example.com",
  platform: "linux",
  registrationId: "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d31",
};
const KIOSK_NIGHT: Device = { ...KIOSK_DAY, personEmail: "night.shift@example.com", registrationId: "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d32" };
const DEVICES = [JANE, BUILD, KIOSK_DAY, KIOSK_NIGHT];
const RULE = "dex-alert-probe-warp-diag";

function postCloudflare(body: string, query = "") {
  // A dry run is the operator's: it also needs the admin token.
  const operator: Record<string, string> = query.includes("dry_run") ? { "x-relay-admin-token": "admin-test-token" } : {};
  return post(`/v1/alerts/cloudflare${query}`, {
    headers: { "content-type": "application/json", "cf-webhook-auth": env.CLOUDFLARE_NOTIFICATIONS_SECRET, ...operator },
    body,
  });
}

/** A copy of the availability fixture as a new alert of the same policy. */
function anotherEpisode(correlationId: string): string {
  return JSON.stringify({ ...JSON.parse(availability), alert_correlation_id: correlationId });
}

const decisionsOf = async (id: string) =>
  ((await deliveryRecord(id))?.decisions ?? []).map((d: any) => `${d.rule ?? "-"}/${d.device_id ?? "-"}/${d.registration_id ?? "-"}: ${d.outcome}`);

isolateEachTest();

describe("fixed targets", () => {
  it("a DEX notification naming no device runs the rule's command on each of its targets, the named user's registration on a shared device", async () => {
    const api = mockDexApi(DEVICES);
    const { status, queued } = await postCloudflare(availability);
    expect(status).toBe(202);
    await runConsumer(queued);

    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.callsTo("create")[0]?.body).toEqual({
      commands: [
        {
          type: "warp-diag",
          args: { "test-all-routes": true },
          device_id: BUILD.deviceId,
          user_email: BUILD.personEmail,
          registration_id: BUILD.registrationId,
        },
        {
          type: "warp-diag",
          args: { "test-all-routes": true },
          device_id: KIOSK_DAY.deviceId,
          user_email: KIOSK_DAY.personEmail,
          registration_id: KIOSK_DAY.registrationId,
        },
      ],
    });
    expect(await decisionsOf(queued[0]!.delivery_id)).toEqual([
      `${RULE}/${BUILD.deviceId}/${BUILD.registrationId}: created`,
      `${RULE}/${KIOSK_DAY.deviceId}/${KIOSK_DAY.registrationId}: created`,
    ]);
  });

  it("cooldowns hold per device: the next DEX alert within 30 minutes runs nothing again, and its end starts nothing", async () => {
    const api = mockDexApi(DEVICES);
    const first = await postCloudflare(availability);
    await runConsumer(first.queued);
    const next = await postCloudflare(latency);
    const ended = await postCloudflare(availabilityEnd);
    await runConsumer([...next.queued, ...ended.queued]);

    expect(api.commands).toHaveLength(2);
    expect(await decisionsOf(next.queued[0]!.delivery_id)).toEqual([
      `${RULE}/${BUILD.deviceId}/${BUILD.registrationId}: cooldown`,
      `${RULE}/${KIOSK_DAY.deviceId}/${KIOSK_DAY.registrationId}: cooldown`,
    ]);
    expect(await decisionsOf(ended.queued[0]!.delivery_id)).toEqual(["-/-/-: not-firing"]);
  });

  it("a device the cooldown does not cover still gets its command", async () => {
    const api = mockDexApi(DEVICES);
    const rules = [
      {
        name: "probe-a",
        cooldown_minutes: 30,
        command: { type: "warp-diag" },
        match: { labels: { alert_type: "/./" } },
        targets: [{ hostname: "BUILD-LINUX-07" }],
      },
    ];
    await runConsumer((await postCloudflare(availability)).queued, 1, { RULES: rules });
    const widened = [{ ...rules[0], targets: [{ hostname: "BUILD-LINUX-07" }, { user_email: "night.shift@example.com" }] }];
    const second = await postCloudflare(anotherEpisode("0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5"));
    await runConsumer(second.queued, 1, { RULES: widened });

    expect(api.commands.map((c) => [c.device_id, c.registration_id])).toEqual([
      [BUILD.deviceId, BUILD.registrationId],
      [KIOSK_NIGHT.deviceId, KIOSK_NIGHT.registrationId],
    ]);
    expect(await decisionsOf(second.queued[0]!.delivery_id)).toEqual([
      `probe-a/${BUILD.deviceId}/${BUILD.registrationId}: cooldown`,
      `probe-a/${KIOSK_NIGHT.deviceId}/${KIOSK_NIGHT.registrationId}: created`,
    ]);
  });

  it("works for every source: a signed Standard Webhooks alert about one user also reaches a rule's fixed targets", async () => {
    const api = mockDexApi(DEVICES);
    const rules = [
      { name: "user-pcap", command: { type: "pcap" }, match: { labels: { team: "it-network" } } },
      { name: "probes-too", command: { type: "warp-diag" }, match: { labels: { team: "it-network" } }, targets: [{ hostname: "BUILD-LINUX-07" }] },
    ];
    const body = JSON.stringify({ id: "NOC-7", title: "VPN packet loss", user_email: JANE.personEmail, labels: { team: "it-network" } });
    const { status, queued } = await post("/v1/alerts/webhook", {
      headers: { "content-type": "application/json", ...(await standardWebhookHeaders(body, [env.WEBHOOK_SECRET])) },
      body,
    });
    expect(status).toBe(202);
    await runConsumer(queued, 1, { RULES: rules });
    expect(api.commands.map((c) => [c.type, c.device_id])).toEqual([
      ["pcap", JANE.deviceId],
      ["warp-diag", BUILD.deviceId],
    ]);
  });

  it("?dry_run=true shows the fixed targets it would reach, and sends, queues and records nothing", async () => {
    const api = mockDexApi(DEVICES);
    const { status, json, queued } = await postCloudflare(availability, "?dry_run=true");
    expect(status).toBe(200);
    expect(json).toMatchObject({ status: "dry-run", alerts: 1 });
    expect(json.decisions).toEqual([
      expect.objectContaining({ rule: RULE, type: "warp-diag", outcome: "would-create", device_id: BUILD.deviceId, user_email: BUILD.personEmail }),
      expect.objectContaining({
        rule: RULE,
        type: "warp-diag",
        outcome: "would-create",
        device_id: KIOSK_DAY.deviceId,
        registration_id: KIOSK_DAY.registrationId,
      }),
    ]);
    expect(queued).toEqual([]);
    expect(api.callsTo("create")).toEqual([]);
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });
});
