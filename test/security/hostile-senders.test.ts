/// <reference types="vite/client" />
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import type { Device } from "../../src/model/dex-api";
import { MAX_MATCH_TEXT_LENGTH } from "../../src/match/match-rules";
import pagerDutyTriggered from "../../src/sources/pagerduty/fixtures/incident.triggered.json?raw";
import grafanaFiring from "../../src/sources/grafana/fixtures/dns-latency.firing.json?raw";
import { JANE, mockDexApi, OLD_CLIENT, SAM } from "../helpers/dex-api-mock";
import { deliveryRecord, isolateEachTest, post, postPagerDuty, postZapier, RELAY, runConsumer, watchRefusals, ZAPIER_AUTH } from "../helpers/relay";
import { signGrafana } from "../helpers/sign";
import { alertGroup } from "../helpers/source-fixtures";

/**
 * What a sender holding one source's credentials can and cannot make the relay do, from
 * the HTTP request through the queue consumer to the DEX API: name someone else's laptop,
 * read the device directory, replay an old delivery, multiply one alert, or learn anything
 * from a refusal.
 */

isolateEachTest();

/** A multi-user kiosk, listed once per registration, as the devices API lists it. */
const KIOSK_AMY: Device = {
  ...JANE,
  deviceId: "6f1c2d4e-0004-4a7b-9c1d-000000000004",
  deviceName: "LOBBY-KIOSK-01",
  personEmail: "amy.ng@example.com",
  registrationId: "9a8b7c6d-0004-4e5f-8a9b-00000000a001",
  timestamp: "2026-11-25T10:00:00Z",
};
const KIOSK_BO: Device = {
  ...KIOSK_AMY,
  personEmail: "bo.diaz@example.com",
  registrationId: "9a8b7c6d-0004-4e5f-8a9b-00000000b002",
  timestamp: "2026-11-25T11:00:00Z",
};
/** A laptop whose name is the short name of a server that Prometheus scrapes. */
const BUILD_LAPTOP: Device = {
  ...JANE,
  deviceId: "6f1c2d4e-0005-4a7b-9c1d-000000000005",
  deviceName: "BUILD-LINUX-07",
  personEmail: "ci.owner@example.com",
  registrationId: "9a8b7c6d-0005-4e5f-8a9b-000000000005",
};
/** Two laptops with the name their vendor gave them. */
const MACBOOK_ANN: Device = {
  ...JANE,
  deviceId: "6f1c2d4e-0006-4a7b-9c1d-000000000006",
  deviceName: "MacBook-Pro",
  personEmail: "ann.lee@example.com",
  registrationId: "9a8b7c6d-0006-4e5f-8a9b-000000000006",
};
const MACBOOK_BEN: Device = {
  ...MACBOOK_ANN,
  deviceId: "6f1c2d4e-0007-4a7b-9c1d-000000000007",
  personEmail: "ben.ode@example.com",
  registrationId: "9a8b7c6d-0007-4e5f-8a9b-000000000007",
};

const DEVICES = [JANE, SAM, OLD_CLIENT, KIOSK_AMY, KIOSK_BO, BUILD_LAPTOP, MACBOOK_ANN, MACBOOK_BEN];

const OPERATOR = { "x-relay-admin-token": "admin-test-token" };
const ALERTMANAGER_AUTH = { authorization: "Bearer alertmanager-test-token" };

type Decision = Record<string, any>;

/** Runs the consumer on what ingest queued and returns the delivery's recorded decisions. */
async function consume(queued: DeliveryMessage[]): Promise<Decision[]> {
  expect(queued).toHaveLength(1);
  const result = await runConsumer(queued);
  expect(result.explicitAcks).toEqual(["msg-0"]);
  const record = await deliveryRecord(queued[0]!.delivery_id);
  return record?.decisions ?? [];
}

/** Posts a Zapier alert with the shipped rules, consumes it, and returns its decisions. */
async function zapierAlert(fields: Record<string, unknown>): Promise<Decision[]> {
  const { status, queued } = await postZapier(fields);
  expect(status).toBe(202);
  return consume(queued);
}

function outcomes(decisions: Decision[]): string[] {
  return decisions.map((d) => `${d.rule ?? "-"}: ${d.outcome}`);
}

/** The triggered fixture, dated `occurredAt`, with another title if given. */
function pagerDutyEvent(occurredAt: Date | string, title?: string) {
  const event = JSON.parse(pagerDutyTriggered);
  event.event.occurred_at = typeof occurredAt === "string" ? occurredAt : occurredAt.toISOString();
  if (title !== undefined) event.event.data.title = title;
  return event;
}

/** An Alertmanager notification of one firing alert with these labels and annotations. */
function alertmanagerGroup(labels: Record<string, string>, annotations: Record<string, string> = {}) {
  return JSON.stringify(
    alertGroup([{ status: "firing", labels, annotations, startsAt: "2026-11-25T09:00:00Z", endsAt: "0001-01-01T00:00:00Z", fingerprint: "0a1b2c3d4e5f6071" }]),
  );
}

/** Posts through `app.request` with some bindings changed, the queue captured. */
async function postWithEnv(source: string, body: string, headers: Record<string, string>, bindings: Record<string, unknown>, query = "") {
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
  const refusals = watchRefusals();
  try {
    const ctx = createExecutionContext();
    const response = await app.request(
      `${RELAY}/v1/alerts/${source}${query}`,
      { method: "POST", headers: { "content-type": "application/json", ...headers }, body },
      { ...env, ...bindings } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const text = await response.text();
    const queued = send.mock.calls.map(([message]) => message as DeliveryMessage);
    return { status: response.status, text, json: JSON.parse(text) as Record<string, any>, queued, reason: refusals.reason() };
  } finally {
    send.mockRestore();
    refusals.stop();
  }
}

describe("targets: a sender names a laptop only as the devices API lists it", () => {
  it("a real device id with someone else's email creates nothing, and the record says why", async () => {
    const api = mockDexApi(DEVICES);
    const decisions = await zapierAlert({
      id: "T-1",
      title: "VPN packet loss",
      severity: "critical",
      device_id: JANE.deviceId,
      user_email: "attacker@evil.example",
    });
    expect(api.commands).toEqual([]);
    expect(api.callsTo("create")).toEqual([]);
    expect(outcomes(decisions)).toEqual(["vpn-packet-loss-pcap: device-not-found", "warp-diag-on-critical: device-not-found"]);
    for (const d of decisions) {
      expect(d.reason).toContain("attacker@evil.example");
      expect(d.device_id).toBeUndefined();
    }
    // The lookup was by the email the sender gave: Jane's listing never answered for it.
    expect(api.callsTo("devices").map((c) => c.url.searchParams.get("search"))).toEqual(["attacker@evil.example"]);
  });

  it("a device named directly that the API lists as ineligible creates nothing (device-ineligible)", async () => {
    const api = mockDexApi(DEVICES);
    const byId = await zapierAlert({
      id: "T-2",
      title: "Calls drop",
      severity: "critical",
      device_id: OLD_CLIENT.deviceId,
      user_email: OLD_CLIENT.personEmail,
    });
    const byName = await zapierAlert({ id: "T-3", title: "Calls drop", severity: "critical", hostname: OLD_CLIENT.deviceName });
    expect(api.commands).toEqual([]);
    for (const decisions of [byId, byName]) {
      expect(decisions).toEqual([
        expect.objectContaining({
          rule: "warp-diag-on-critical",
          outcome: "device-ineligible",
          device_id: OLD_CLIENT.deviceId,
          reason: OLD_CLIENT.ineligibleReason,
        }),
      ]);
    }
  });

  it("a multi-user device with another user's registration_id is refused; the user's own is taken", async () => {
    const api = mockDexApi(DEVICES);
    const stolen = await zapierAlert({
      id: "T-4",
      title: "Kiosk slow",
      severity: "critical",
      device_id: KIOSK_AMY.deviceId,
      user_email: KIOSK_AMY.personEmail,
      registration_id: KIOSK_BO.registrationId,
    });
    expect(outcomes(stolen)).toEqual(["warp-diag-on-critical: device-not-found"]);
    expect(api.commands).toEqual([]);

    const own = await zapierAlert({ id: "T-5", title: "Kiosk slow", severity: "critical", device_id: KIOSK_AMY.deviceId, user_email: KIOSK_AMY.personEmail });
    expect(outcomes(own)).toEqual(["warp-diag-on-critical: created"]);
    expect(api.commands.map((c) => [c.device_id, c.registration_id, c.user_email])).toEqual([
      [KIOSK_AMY.deviceId, KIOSK_AMY.registrationId, KIOSK_AMY.personEmail],
    ]);
  });

  it("an Alertmanager alert about build-linux-07.prod.internal:9100 does not hit the laptop BUILD-LINUX-07", async () => {
    const api = mockDexApi(DEVICES);
    const body = alertmanagerGroup({ alertname: "NodeDown", instance: "build-linux-07.prod.internal:9100", severity: "critical", check: "bandwidth" });
    const { status, queued } = await post("/v1/alerts/alertmanager", { headers: { ...ALERTMANAGER_AUTH, "content-type": "application/json" }, body });
    expect(status).toBe(202);
    expect(queued[0]!.alerts[0]!.target).toEqual({ hostname: "build-linux-07.prod.internal" });
    const decisions = await consume(queued);
    expect(api.commands).toEqual([]);
    expect(outcomes(decisions)).toEqual(["warp-diag-on-critical: device-not-found", "bandwidth-speed-test: device-not-found"]);
  });

  it("a host name that matches two devices is refused as device-ambiguous, not fanned out", async () => {
    const api = mockDexApi(DEVICES);
    const decisions = await zapierAlert({ id: "T-6", title: "Wi-Fi drops", severity: "critical", hostname: "macbook-pro" });
    expect(api.commands).toEqual([]);
    expect(decisions).toEqual([
      expect.objectContaining({ rule: "warp-diag-on-critical", outcome: "device-ambiguous", reason: expect.stringContaining("2 devices") }),
    ]);
  });

  it("a rule that does not trust title.user_email from Zapier does not run on the user a Zapier title names", async () => {
    const api = mockDexApi(DEVICES);
    const title = `VPN packet loss above 8% for ${JANE.personEmail}`;
    const fromZapier = await zapierAlert({ id: "T-7", title, severity: "critical" });
    expect(api.commands).toEqual([]);
    expect(outcomes(fromZapier)).toEqual(["vpn-packet-loss-pcap: device-not-found", "warp-diag-on-critical: device-not-found"]);
    expect(api.callsTo("devices")).toEqual([]);

    // The same title from PagerDuty, whose title.user_email the shipped rules trust, does.
    const { status, queued } = await postPagerDuty(pagerDutyEvent(new Date(), title));
    expect(status).toBe(202);
    // The shipped pcap rule waits for a person's approval; it matched all the same.
    expect(outcomes(await consume(queued))).toEqual(["vpn-packet-loss-pcap: awaiting-approval", "warp-diag-on-critical: created"]);
    expect(api.commands.map((c) => c.device_id)).toEqual([JANE.deviceId]);
  });
});

describe("dry runs: what the relay would do is for operators only", () => {
  const alert = { id: "DRY-1", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail };

  it("with only the sender's token answers 401 unauthorized, and tells nothing about the device", async () => {
    const api = mockDexApi(DEVICES);
    for (const headers of [
      {} as Record<string, string>,
      { "x-relay-admin-token": "zapier-test-token" },
      { "x-relay-admin-token": "admin-test-tokeN" },
      { "x-relay-admin-token": "" },
    ]) {
      const { response, status, json, queued } = await postZapier(alert, headers, "?dry_run=true");
      expect(status).toBe(401);
      expect(json).toEqual({ error: "unauthorized" });
      const text = JSON.stringify(json) + [...response.headers].join(" ");
      for (const secret of [JANE.deviceId, JANE.personEmail!, JANE.registrationId!, JANE.deviceName!]) expect(text).not.toContain(secret);
      expect(queued).toEqual([]);
    }
    expect(api.calls).toEqual([]);
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });

  it("with the operator's token alone, without the sender's, answers 401", async () => {
    mockDexApi(DEVICES);
    const { status, json } = await post("/v1/alerts/zapier?dry_run=true", {
      headers: { ...OPERATOR, "content-type": "application/json" },
      body: JSON.stringify(alert),
    });
    expect(status).toBe(401);
    expect(json).toEqual({ error: "unauthorized" });
  });

  it("is refused to everyone while ADMIN_TOKEN is unset", async () => {
    const api = mockDexApi(DEVICES);
    const { status, text, queued, reason } = await postWithEnv(
      "zapier",
      JSON.stringify(alert),
      { ...ZAPIER_AUTH, ...OPERATOR },
      { ADMIN_TOKEN: "" },
      "?dry_run=true",
    );
    expect(status).toBe(401);
    expect(text).toBe('{"error":"unauthorized"}');
    expect(reason).toMatch(/ADMIN_TOKEN is not set/);
    expect(queued).toEqual([]);
    expect(api.calls).toEqual([]);
  });

  it("with X-Relay-Admin-Token answers 200 with the decisions, and sends, queues and records nothing", async () => {
    const api = mockDexApi(DEVICES);
    const { status, json, queued } = await postZapier(alert, OPERATOR, "?dry_run=true");
    expect(status).toBe(200);
    expect(json.status).toBe("dry-run");
    expect(json.decisions).toEqual([
      expect.objectContaining({ outcome: "would-create", rule: "vpn-packet-loss-pcap", device_id: JANE.deviceId }),
      expect.objectContaining({ outcome: "would-create", rule: "warp-diag-on-critical", device_id: JANE.deviceId }),
    ]);
    expect(queued).toEqual([]);
    expect(api.callsTo("create")).toEqual([]);
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });
});

describe("replays: an old delivery starts nothing", () => {
  const HOUR = 3600_000;

  it.each([
    ["in 2019", new Date("2019-06-01T09:41:07.318Z")],
    ["49 hours ago", new Date(Date.now() - 49 * HOUR)],
    ["a year ago", new Date(Date.now() - 365 * 24 * HOUR)],
  ])("a correctly signed PagerDuty event that occurred %s answers 2xx, queues nothing and creates nothing", async (_, occurred) => {
    const api = mockDexApi(DEVICES);
    const { status, json, queued } = await postPagerDuty(pagerDutyEvent(occurred), { "x-webhook-id": crypto.randomUUID() });
    expect(status).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: expect.stringMatching(/more than 48 hours ago/) });
    expect(queued).toEqual([]);
    expect(api.calls).toEqual([]);
    expect(api.commands).toEqual([]);
  });

  it("a PagerDuty event without a usable occurred_at is refused as a possible replay", async () => {
    mockDexApi(DEVICES);
    for (const occurred of ["", "not a date"]) {
      const { status, json, queued } = await postPagerDuty(pagerDutyEvent(occurred));
      expect(status).toBe(200);
      expect(json.status).toBe("ignored");
      expect(queued).toEqual([]);
    }
  });

  it("the same event from 47 hours ago, within PagerDuty's retry window, is still acted on (its pcap waits for approval)", async () => {
    const api = mockDexApi(DEVICES);
    const { status, queued } = await postPagerDuty(pagerDutyEvent(new Date(Date.now() - 47 * HOUR)));
    expect(status).toBe(202);
    expect(outcomes(await consume(queued))).toEqual(["vpn-packet-loss-pcap: awaiting-approval", "warp-diag-on-critical: created"]);
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
  });

  describe("Grafana HMAC signatures", () => {
    const TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp";
    /** Grafana's fixture, made critical and about Jane so that the shipped rules act on it. */
    const body = (() => {
      const doc = JSON.parse(grafanaFiring);
      doc.alerts[0].labels = { ...doc.alerts[0].labels, severity: "critical", hostname: JANE.deviceName, user_email: JANE.personEmail };
      return JSON.stringify(doc);
    })();

    it.each([["false"], [""], [undefined], ["yes"]])(
      "refuses a delivery signed without a timestamp while GRAFANA_HMAC_WITHOUT_TIMESTAMP is %j",
      async (optOut) => {
        mockDexApi(DEVICES);
        const { status, text, queued, reason } = await postWithEnv(
          "grafana",
          body,
          { "x-grafana-alerting-signature": await signGrafana(body, "grafana-test-secret") },
          { GRAFANA_HMAC_WITHOUT_TIMESTAMP: optOut, GRAFANA_TIMESTAMP_HEADER: "" },
        );
        expect(status).toBe(401);
        expect(text).toBe('{"error":"unauthorized"}');
        expect(reason).toMatch(/signed deliveries need a timestamp/);
        expect(queued).toEqual([]);
      },
    );

    it("refuses a stale timestamp, and accepts a fresh one all the way to a command", async () => {
      const api = mockDexApi(DEVICES);
      const bindings = { GRAFANA_HMAC_WITHOUT_TIMESTAMP: "false", GRAFANA_TIMESTAMP_HEADER: TIMESTAMP_HEADER };
      const signedAt = async (seconds: number) => ({
        "x-grafana-alerting-signature": await signGrafana(body, "grafana-test-secret", seconds),
        [TIMESTAMP_HEADER]: String(seconds),
      });
      const now = Math.floor(Date.now() / 1000);

      const stale = await postWithEnv("grafana", body, await signedAt(now - 3600), bindings);
      expect(stale).toMatchObject({ status: 401, queued: [], reason: "timestamp is too old" });

      const fresh = await postWithEnv("grafana", body, await signedAt(now), bindings);
      expect(fresh.status).toBe(202);
      // The fixture's second alert is resolved: it starts nothing.
      expect(outcomes(await consume(fresh.queued))).toEqual(["warp-diag-on-critical: created", "-: not-firing"]);
      expect(api.commands.map((c) => [c.type, c.device_id])).toEqual([["warp-diag", JANE.deviceId]]);
    });
  });
});

describe("patterns: a rule cannot pin the relay on a crafted title", () => {
  const zapierBody = JSON.stringify({ id: "P-1", title: "a".repeat(40), severity: "critical", user_email: JANE.personEmail });

  it.each([
    ["a title", { title: "/^(\\w+\\s?)*$/" }, "RULES[0].match.title"],
    ["a label", { labels: { service: "/(a|a)*$/" } }, "RULES[0].match.labels.service"],
  ])("RULES with a catastrophic pattern in %s is refused at load with its path: 500, nothing queued", async (_, match, path) => {
    mockDexApi(DEVICES);
    const rules = [{ name: "greedy", match, command: { type: "warp-diag" } }];
    const { status, json, queued } = await postWithEnv("zapier", zapierBody, ZAPIER_AUTH, { RULES: rules });
    expect(status).toBe(500);
    expect(json.error.startsWith(`relay configuration is invalid: ${path}: pattern may backtrack catastrophically: `)).toBe(true);
    expect(queued).toEqual([]);
  });

  it("the consumer holds a queued delivery back, creating nothing, while RULES is refused", async () => {
    const api = mockDexApi(DEVICES);
    const { queued } = await postZapier(JSON.parse(zapierBody));
    const result = await runConsumer(queued, 1, { RULES: [{ name: "greedy", match: { title: "/^(\\w+\\s?)*$/" }, command: { type: "warp-diag" } }] });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch).toMatchObject({ retry: true });
    expect(api.calls).toEqual([]);
  });

  it("a 100,000-character PagerDuty title is matched against the shipped rules on its first 1,024 characters", async () => {
    const api = mockDexApi(DEVICES);
    // The shipped title pattern's worst case: "packet loss" then a long run that almost makes an email.
    const title = `VPN packet loss for ${JANE.personEmail} ${"a.b-c+d@e".repeat(11_110)}`;
    expect(title.length).toBeGreaterThan(100_000);
    const { status, queued } = await postPagerDuty(pagerDutyEvent(new Date(), title));
    expect(status).toBe(202);
    expect(queued[0]!.alerts[0]!.title.length).toBeLessThanOrEqual(MAX_MATCH_TEXT_LENGTH);
    // The shipped pcap rule waits for a person's approval; it matched all the same.
    expect(outcomes(await consume(queued))).toEqual(["vpn-packet-loss-pcap: awaiting-approval", "warp-diag-on-critical: created"]);
    expect(api.commands.map((c) => c.device_id)).toEqual([JANE.deviceId]);
  });

  it("a 100,000-character Alertmanager summary full of near-emails matches no rule it should not, and creates only what it names", async () => {
    const api = mockDexApi(DEVICES);
    const summary = `dropping packets ${"x@y".repeat(34_000)}`;
    const body = alertmanagerGroup({ alertname: "Loss", severity: "critical", user_email: SAM.personEmail! }, { summary });
    const { status, queued } = await post("/v1/alerts/alertmanager", { headers: { ...ALERTMANAGER_AUTH, "content-type": "application/json" }, body });
    expect(status).toBe(202);
    expect(outcomes(await consume(queued))).toEqual(["warp-diag-on-critical: created"]);
    expect(api.commands.map((c) => c.device_id)).toEqual([SAM.deviceId]);
  });

  it("a 100,000-character title from a source that keeps titles whole is refused with 400, before any matching", async () => {
    mockDexApi(DEVICES);
    const { status, json, queued } = await postZapier({
      id: "P-2",
      title: `VPN packet loss ${"é".repeat(100_000)}`,
      severity: "critical",
      user_email: JANE.personEmail,
    });
    expect(status).toBe(400);
    expect(json.error).toMatch(/title/);
    expect(queued).toEqual([]);
  });
});

describe("variations: spellings of one alert are one episode", () => {
  const FIELDS = { id: "TICKET-1042", title: "Video calls keep freezing", severity: "critical", user_email: JANE.personEmail! };
  const JSON_TYPE = { "content-type": "application/json" };
  const withId = (id: string) => JSON.stringify({ ...FIELDS, id });
  const { id: _, ...noId } = FIELDS;

  /** The fourteen ways a sender might spell the same Zapier alert: [name, body, extra headers]. */
  const variants: Array<[string, string, HeadersInit]> = [
    ["as sent", withId("TICKET-1042"), JSON_TYPE],
    ["with an Idempotency-Key", withId("TICKET-1042"), { ...JSON_TYPE, "idempotency-key": "zap-run-1" }],
    ["with a different Idempotency-Key", withId("TICKET-1042"), { ...JSON_TYPE, "idempotency-key": "zap-run-2" }],
    [
      "with a second Idempotency-Key",
      withId("TICKET-1042"),
      [
        ["content-type", "application/json"],
        ["idempotency-key", "zap-run-1"],
        ["idempotency-key", "zap-run-3"],
      ],
    ],
    ["with a lower-case id", withId("ticket-1042"), JSON_TYPE],
    ["with a zero-width space in the id", withId("TICKET\u200b-1042"), JSON_TYPE],
    ["with a soft hyphen and a byte-order mark in the id", withId("\ufeffTICKET-10\u00ad42"), JSON_TYPE],
    ["with full-width digits", withId("TICKET-\uff11\uff10\uff14\uff12"), JSON_TYPE],
    ["with full-width letters", withId("\uff34\uff29\uff23\uff2b\uff25\uff34-1042"), JSON_TYPE],
    ["with surrounding white space", withId("  TICKET-1042\t"), JSON_TYPE],
    ["without an id", JSON.stringify(noId), JSON_TYPE],
    ["without an id, re-spaced", JSON.stringify(noId, null, 4), JSON_TYPE],
    ["without an id, keys reordered", JSON.stringify({ user_email: noId.user_email, severity: noId.severity, title: noId.title }), JSON_TYPE],
    ["without an id, as a form", new URLSearchParams(noId).toString(), { "content-type": "application/x-www-form-urlencoded" }],
  ];

  it("the fourteen variants, through ingest and the consumer, make exactly one command on the laptop", async () => {
    const api = mockDexApi(DEVICES);
    expect(variants).toHaveLength(14);
    const messages: DeliveryMessage[] = [];
    for (const [name, body, headers] of variants) {
      const all = new Headers(headers);
      all.set("authorization", ZAPIER_AUTH.authorization);
      const { status, queued } = await post("/v1/alerts/zapier", { headers: all, body });
      expect(status, name).toBe(202);
      messages.push(...queued);
    }
    const episodes = messages.map((m) => m.alerts[0]!.episode);
    // Those with an id are the id's episode; those without, one episode of their fields.
    expect(new Set(episodes.slice(0, 10))).toEqual(new Set(["zapier:ticket-1042"]));
    expect(new Set(episodes.slice(10)).size).toBe(1);

    // Half in one batch, then the rest one by one, as redeliveries would come.
    await runConsumer(messages.slice(0, 7));
    for (const message of messages.slice(7)) await runConsumer([message]);

    expect(api.commands.map((c) => [c.type, c.device_id])).toEqual([["warp-diag", JANE.deviceId]]);
    const decided = await Promise.all(messages.map(async (m) => (await deliveryRecord(m.delivery_id))?.decisions.map((d: Decision) => d.outcome)));
    expect(decided[0]).toEqual(["created"]);
    // The id's episode is a duplicate; the other episode, which never got a command of its
    // own, is held by the rule's cooldown on that laptop.
    expect(decided.slice(1, 10)).toEqual(Array(9).fill(["duplicate"]));
    expect(decided.slice(10)).toEqual(Array(4).fill(["cooldown"]));
  });
});
