import { createExecutionContext, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { hmacSha256Hex } from "../../src/crypto/hmac";
import pagerDutyAcknowledged from "../../src/sources/pagerduty/fixtures/incident.acknowledged.json?raw";
import pagerDutyPing from "../../src/sources/pagerduty/fixtures/pagey.ping.json?raw";
import triggeredFixture from "../../src/sources/pagerduty/fixtures/incident.triggered.json?raw";
import { redeliveryKey } from "../../src/model/kv-keys";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { post, postPagerDuty, postZapier, RELAY, ZAPIER_AUTH } from "../helpers/relay";
import { freshPagerDuty } from "../helpers/source-fixtures";

/** Dated now: the relay refuses PagerDuty events older than PagerDuty retries. */
const pagerDutyTriggered = freshPagerDuty(triggeredFixture);

/** Every outbound call fails the test: ingest itself talks to nobody (dry runs aside). */
let dex: ReturnType<typeof mockDexApi>;

beforeEach(() => {
  dex = mockDexApi();
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(async () => {
  expect(dex.calls).toEqual([]);
  vi.restoreAllMocks();
  await reset();
});

describe("POST /v1/alerts/{source}", () => {
  it("answers 202 with a delivery id once verified and queued", async () => {
    const { status, json, queued } = await postZapier({ id: "A-1", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail });
    expect(status).toBe(202);
    expect(json).toEqual({ status: "queued", delivery_id: expect.stringMatching(/^[0-9a-f-]{36}$/), alerts: 1 });
    expect(queued).toEqual([
      {
        version: 2,
        delivery_id: json.delivery_id,
        source: "zapier",
        received_at: expect.any(String),
        alerts: [expect.objectContaining({ episode: "zapier:a-1", firing: true, target: { user_email: JANE.personEmail } })],
      },
    ]);
  });

  it("answers 404 for an unknown source, naming the known ones", async () => {
    const { status, json, queued } = await post("/v1/alerts/nagios", { headers: { "content-type": "application/json" }, body: "{}" });
    expect(status).toBe(404);
    expect(json.error).toMatch(/pagerduty, webhook, zapier/);
    expect(queued).toEqual([]);
  });

  it("answers 415 for a content type the source's senders never use", async () => {
    const { status, json, queued } = await post("/v1/alerts/pagerduty", { headers: { "content-type": "text/plain" }, body: "{}" });
    expect(status).toBe(415);
    expect(json.error).toBe("Content-Type must be application/json");
    expect(queued).toEqual([]);
  });

  it("answers 415 with a hint for a JSON body labelled as a form (curl -d's default), and queues nothing", async () => {
    const body = JSON.stringify({ id: "TICKET-1042", title: "Video calls keep freezing", severity: "critical", user_email: "sam.lee@example.com" });
    const { status, json, queued } = await post("/v1/alerts/zapier", {
      headers: { ...ZAPIER_AUTH, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(status).toBe(415);
    expect(json.error).toMatch(/the body is JSON but Content-Type says form: send Content-Type: application\/json/);
    expect(queued).toEqual([]);
    // A real form still goes through.
    const form = await post("/v1/alerts/zapier", {
      headers: { ...ZAPIER_AUTH, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ id: "TICKET-1043", title: "Slow uploads" }).toString(),
    });
    expect(form.status).toBe(202);
  });

  it("answers 413 for a body over 1 MiB, without reading it", async () => {
    const huge = JSON.stringify({ title: "x".repeat(1024 * 1024) });
    const { status, json, queued } = await post("/v1/alerts/zapier", {
      headers: { ...ZAPIER_AUTH, "content-type": "application/json" },
      body: huge,
    });
    expect(status).toBe(413);
    expect(json.error).toMatch(/larger than 1048576 bytes/);
    expect(queued).toEqual([]);
  });

  it("answers 401 for missing or wrong auth, and queues nothing", async () => {
    for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong" }]) {
      const { status, queued } = await post("/v1/alerts/zapier", {
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ title: "x" }),
      });
      expect(status).toBe(401);
      expect(queued).toEqual([]);
    }
    const unsigned = await post("/v1/alerts/pagerduty", { headers: { "content-type": "application/json" }, body: pagerDutyTriggered });
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toEqual({ error: "unauthorized" });
    expect(unsigned.reason).toBe("missing X-PagerDuty-Signature header");
  });

  it("verifies a signature over the bytes received, not over text decoded from them", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(pagerDutyTriggered)]);
    const hex = await hmacSha256Hex("pd-secret-current", bytes);
    expect(hex).not.toBe(await hmacSha256Hex("pd-secret-current", pagerDutyTriggered));
    const { status, json, queued } = await post("/v1/alerts/pagerduty", {
      headers: { "content-type": "application/json", "x-pagerduty-signature": `v1=${hex}` },
      body: bytes,
    });
    // Signed over the bytes with their byte-order mark: authentic, and the mark is no obstacle to parsing.
    expect(status).toBe(202);
    expect(json.status).toBe("queued");
    expect(queued).toHaveLength(1);
  });

  it("answers 400 naming the field when the body has the wrong shape", async () => {
    const { status, json, queued } = await postZapier({ title: "x", user_email: "not-an-email" });
    expect(status).toBe(400);
    expect(json.error).toMatch(/user_email/);
    expect(queued).toEqual([]);
    const garbage = await post("/v1/alerts/zapier", { headers: { ...ZAPIER_AUTH, "content-type": "application/json" }, body: "{nope" });
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toMatch(/not valid JSON/);
  });

  it("answers 2xx and queues nothing for a PagerDuty ping or an event that starts no capture", async () => {
    for (const body of [pagerDutyPing, pagerDutyAcknowledged]) {
      const { status, json, queued } = await postPagerDuty(JSON.parse(body));
      expect(status).toBe(200);
      expect(json.status).toBe("ignored");
      expect(queued).toEqual([]);
    }
  });

  it("drops a PagerDuty redelivery by its X-Webhook-Id", async () => {
    const headers = { "x-webhook-id": "8e0b7e4a-2f0c-4f6e-9f7e-3c1d2b4a5e6f" };
    const first = await postPagerDuty(JSON.parse(pagerDutyTriggered), headers);
    expect(first.status).toBe(202);
    await vi.waitFor(async () => expect(await env.RELAY_KV.get(redeliveryKey("pagerduty", "8e0b7e4a-2f0c-4f6e-9f7e-3c1d2b4a5e6f"))).not.toBeNull());
    const retry = await postPagerDuty(JSON.parse(pagerDutyTriggered), headers);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual({ status: "duplicate", delivery_id: first.json.delivery_id, reason: "this delivery was already received" });
    expect(retry.queued).toEqual([]);
  });

  it("answers 503 so the sender retries when the queue refuses the message", async () => {
    vi.spyOn(env.ALERT_QUEUE, "send").mockRejectedValue(new Error("Queue send failed: internal error"));
    const response = await app.request(
      `${RELAY}/v1/alerts/zapier`,
      { method: "POST", headers: { ...ZAPIER_AUTH, "content-type": "application/json" }, body: JSON.stringify({ title: "x" }) },
      env,
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "could not queue the delivery; retry later" });
  });

  it("answers 500 with the path of what is wrong while RULES is broken, so senders keep retrying", async () => {
    const badRules = [{ name: "x", command: { type: "traceroute" } }];
    const send = vi.spyOn(env.ALERT_QUEUE, "send");
    const response = await app.request(
      `${RELAY}/v1/alerts/zapier`,
      { method: "POST", headers: { ...ZAPIER_AUTH, "content-type": "application/json" }, body: JSON.stringify({ title: "x" }) },
      { ...env, RULES: badRules },
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    expect((await response.json<{ error: string }>()).error).toMatch(/^relay configuration is invalid: RULES\[0\]\.command\.type: /);
    expect(send).not.toHaveBeenCalled();
  });

  it("checks auth before reporting a broken configuration to anyone", async () => {
    const response = await app.request(
      `${RELAY}/v1/alerts/zapier`,
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      { ...env, RULES: "[" },
      createExecutionContext(),
    );
    expect(response.status).toBe(401);
  });
});

describe("POST /v1/alerts/{source}?dry_run=true", () => {
  const OPERATOR = { "x-relay-admin-token": "admin-test-token" };

  it("answers 200 with the decisions, and sends, queues and records nothing", async () => {
    dex.calls.length = 0;
    const { status, json, queued } = await postZapier(
      { id: "DRY-1", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail },
      OPERATOR,
      "?dry_run=true",
    );
    expect(status).toBe(200);
    expect(json.status).toBe("dry-run");
    expect(json.decisions).toEqual([
      expect.objectContaining({ outcome: "would-create", rule: "vpn-packet-loss-pcap", type: "pcap", device_id: JANE.deviceId }),
      expect.objectContaining({ outcome: "would-create", rule: "warp-diag-on-critical", type: "warp-diag", device_id: JANE.deviceId }),
    ]);
    expect(queued).toEqual([]);
    expect(dex.callsTo("create")).toEqual([]);
    expect(dex.callsTo("devices")).toHaveLength(1);
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
    dex.calls.length = 0;
  });

  it("says why an alert would not become a command", async () => {
    const { json } = await postZapier({ id: "DRY-2", title: "Printer jam", severity: "info" }, OPERATOR, "?dry_run=true");
    expect(json.decisions).toEqual([expect.objectContaining({ outcome: "no-rule", reason: "no rule matches this alert" })]);
  });
});
