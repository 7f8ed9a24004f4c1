import { createExecutionContext, reset, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { hmacSha256Hex } from "../../src/crypto/hmac";
import { SOURCE_NAMES, SOURCES } from "../../src/sources/registry";
import { deliveryKey } from "../../src/model/kv-keys";
import { apiError, JANE, mockDexApi } from "../helpers/dex-api-mock";
import { RELAY, runConsumer } from "../helpers/relay";
import { authOf, invalidAuthVariants, testSecrets, validAuthHeaders } from "../helpers/source-auth";
import { fixturesOf } from "../helpers/source-fixtures";

/**
 * Nothing secret or sent by a monitoring tool leaks into a log line or an HTTP response:
 * no secret binding, no signature or Authorization value, and no payload. A unique marker
 * is planted in fields of every payload that are neither the title nor part of an episode
 * (those two are recorded on purpose); it must never come out. Delivery records may hold
 * titles and episodes, but never the raw body, a secret or a credential.
 */

const MARKER = `leak-marker-${crypto.randomUUID()}`;
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** Every line written to the console, as one string each. */
let logs: string[];
/** Every HTTP response body the tests received. */
let responses: string[];
/** Values that must appear in neither: secrets, and the credentials and bodies sent. */
let forbidden: Map<string, string>;

beforeEach(() => {
  logs = [];
  responses = [];
  forbidden = new Map(testSecrets().map((s) => [s, "a secret binding"]));
  forbidden.set(MARKER, "the payload marker");
  for (const level of ["log", "error", "warn", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message} ${a.stack}` : JSON.stringify(a))).join(" "));
    });
  }
});
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

/** Remembers the credentials and body of a request as things that must not come back out. */
function forbid(headers: Record<string, string>, body: string) {
  for (const [name, value] of Object.entries(headers)) {
    if (/authorization|signature/i.test(name) && value.trim().length >= 8) forbidden.set(value, `the ${name} header value`);
  }
  forbidden.set(body, "the raw body");
}

async function send(path: string, init: RequestInit & { headers: Record<string, string> }, bindings?: Partial<Record<string, unknown>>) {
  const request = new Request(`${RELAY}${path}`, init);
  let response: Response;
  if (bindings) {
    const ctx = createExecutionContext();
    response = await app.request(request, undefined, { ...env, ...bindings } as Env, ctx);
    await waitOnExecutionContext(ctx);
  } else {
    response = await exports.default.fetch(request);
  }
  const text = await response.text();
  responses.push(text);
  return { status: response.status, text };
}

async function postAlert(source: string, body: string, headers: Record<string, string>, bindings?: Partial<Record<string, unknown>>) {
  forbid(headers, body);
  return send(`/v1/alerts/${source}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }, bindings);
}

function expectNothingLeaked(extra: Array<[string, string]> = []) {
  const places: Array<[string, string]> = [
    ...logs.map((l, i) => [`log line ${i}`, l] as [string, string]),
    ...responses.map((r, i) => [`response ${i}`, r] as [string, string]),
    ...extra,
  ];
  for (const [where, text] of places) {
    for (const [value, what] of forbidden) {
      if (text.includes(value)) expect.fail(`${what} appears in ${where}: ${text.slice(0, 300)}`);
    }
  }
}

/** A JSON fixture of `source` with the marker planted where the source keeps it out of titles and episodes. */
function markedBody(source: string): string {
  const fixture = fixturesOf(source).find((f) => f.contentType === "application/json");
  const doc = fixture ? JSON.parse(fixture.body) : {};
  plant[source]?.(doc);
  // Every source gets a field it does not know, too.
  if (doc && typeof doc === "object" && !Array.isArray(doc)) doc.leak_probe = MARKER;
  return JSON.stringify(doc);
}

const plant: Record<string, (doc: any) => void> = {
  pagerduty: (doc) => {
    doc.event.data.incident_key = MARKER;
    doc.event.data.assignees[0].summary = MARKER;
    doc.event.data.description = MARKER;
  },
  zapier: (doc) => {
    doc.requester_name = MARKER;
    doc.ticket_url = `https://acme.zendesk.com/${MARKER}`;
  },
  alertmanager: (doc) => {
    doc.alerts[0].labels.note = MARKER;
    doc.alerts[0].annotations.runbook_url = MARKER;
    doc.commonAnnotations.runbook_url = MARKER;
  },
  grafana: (doc) => {
    doc.alerts[0].labels.note = MARKER;
    doc.alerts[0].annotations.runbook_url = MARKER;
    doc.message = MARKER;
  },
  datadog: (doc) => {
    doc.tags = `${doc.tags},note:${MARKER}`;
    doc.link = `https://app.datadoghq.com/${MARKER}`;
  },
};

describe.each(SOURCE_NAMES)("%s", (source) => {
  it("refused credentials leak nothing", async () => {
    const body = markedBody(source);
    for (const variant of await invalidAuthVariants(source, body)) {
      const { status } = await postAlert(source, body, variant.headers);
      expect(status, variant.name).toBe(401);
    }
    expectNothingLeaked();
  });

  it("a body that is not what the source sends leaks nothing in its 400", async () => {
    // Zapier and the generic webhook take any object: keep what they accept off the local
    // queue, whose consumer would otherwise run it after this file has reset the storage.
    vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
    for (const body of [`{"title": "${MARKER}"`, JSON.stringify([MARKER]), JSON.stringify({ event: MARKER, alerts: MARKER, alert_id: [MARKER] })]) {
      const { status } = await postAlert(source, body, await validAuthHeaders(source, body));
      expect([200, 202, 400]).toContain(status);
    }
    expectNothingLeaked();
  });

  it("a broken RULES configuration leaks nothing in its 500 or its log line", async () => {
    const body = markedBody(source);
    for (const rules of ["[", [{ name: "x", command: { type: "traceroute" } }], [{ name: "y", match: { title: "(" }, command: { type: "pcap" } }]]) {
      const { status } = await postAlert(source, body, await validAuthHeaders(source, body), { RULES: rules });
      expect(status).toBe(500);
    }
    expect(logs.some((l) => l.includes("config-invalid"))).toBe(true);
    expectNothingLeaked();
  });

  it("a full delivery, from ingest through the consumer to the audit endpoint, leaks nothing", async () => {
    const dex = mockDexApi();
    const body = markedBody(source);
    const send = vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
    const { status } = await postAlert(source, body, await validAuthHeaders(source, body));
    expect([200, 202]).toContain(status);
    const queued = send.mock.calls.map(([message]) => message as DeliveryMessage);
    send.mockRestore();

    if (queued.length > 0) {
      const result = await runConsumer(queued);
      expect(result.explicitAcks).toHaveLength(queued.length);
    }
    const records = await auditRecords(queued);
    expectNothingLeaked(records);
    // Nothing the relay sent out carries the payload either.
    for (const call of dex.calls) expect(JSON.stringify(call.body ?? null) + call.url.href).not.toContain(MARKER);
  });
});

/** The stored records and the audit endpoint's answers for `queued`, as texts to check. */
async function auditRecords(queued: DeliveryMessage[], { recorded = true } = {}): Promise<Array<[string, string]>> {
  const texts: Array<[string, string]> = [];
  for (const message of queued) {
    const stored = await env.RELAY_KV.get(deliveryKey(message.delivery_id));
    if (recorded) expect(stored, `record of ${message.delivery_id}`).not.toBeNull();
    texts.push([`the stored record of ${message.delivery_id}`, stored ?? ""]);
    const { status } = await send(`/v1/deliveries/${encodeURIComponent(message.delivery_id)}`, { method: "GET", headers: ADMIN });
    expect(status).toBe(stored ? 200 : 404);
  }
  return texts;
}

describe("DEX API answers that echo the token", () => {
  const TOKEN = env.DEX_API_TOKEN;

  /** Queues one Zapier alert about Jane that the shipped rules turn into two commands. */
  async function queueAlertAboutJane(): Promise<DeliveryMessage[]> {
    const body = JSON.stringify({
      id: `LEAK-${crypto.randomUUID()}`,
      title: "VPN packet loss",
      severity: "critical",
      user_email: JANE.personEmail,
      note: MARKER,
    });
    const send = vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
    const { status } = await postAlert("zapier", body, await validAuthHeaders("zapier", body));
    expect(status).toBe(202);
    const queued = send.mock.calls.map(([message]) => message as DeliveryMessage);
    send.mockRestore();
    return queued;
  }

  it.each([
    ["a 400 on create", "create", apiError(400, `token ${TOKEN} may not create commands (Authorization: Bearer ${TOKEN})`, "/commands/0"), true],
    ["a 403 on device lookup", "devices", apiError(403, `Authentication error: ${TOKEN} lacks DEX Read`), true],
    ["a 500 on create", "create", apiError(500, `internal error handling Bearer ${TOKEN}`), true],
    ["a 429 on create", "create", apiError(429, `rate limited: ${TOKEN}`, undefined, { "retry-after": "60" }), false],
    ["a 502 page that is no envelope", "create", () => new Response(`<html>bad gateway for Bearer ${TOKEN}</html>`, { status: 502 }), false],
    [
      "a 200 whose envelope says success: false",
      "create",
      () => Response.json({ success: false, errors: [{ code: 9, message: `bad token ${TOKEN}` }], messages: [], result: null }),
      true,
    ],
  ] as const)("%s leaks nothing into logs, the record or the audit endpoint", async (_, route, answer, echoed) => {
    const dex = mockDexApi();
    dex.failNext(route, answer);
    const queued = await queueAlertAboutJane();
    await runConsumer(queued);
    expect(dex.callsTo(route).length).toBeGreaterThan(0);
    // A failed device lookup retries the whole batch before anything is recorded.
    const records = await auditRecords(queued, { recorded: route === "create" });
    // The echo did reach the output, cut out (a body that is no envelope is never quoted).
    if (echoed) expect([...logs, ...records.map(([, text]) => text)].some((text) => text.includes("[redacted]"))).toBe(true);
    expectNothingLeaked(records);
  });

  it("a lost connection whose error names the token leaks nothing", async () => {
    const queued = await queueAlertAboutJane();
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError(`connect ECONNRESET while sending Authorization: Bearer ${TOKEN}`));
    await runConsumer(queued);
    const stored = await env.RELAY_KV.get(deliveryKey(queued[0]!.delivery_id));
    expectNothingLeaked([["the stored record", stored ?? ""]]);
  });
});

describe("the test covers what it claims", () => {
  it("knows every source's credentials and has every secret binding to look for", () => {
    for (const source of Object.keys(SOURCES)) expect(authOf(source).binding).toMatch(/_(TOKEN|SECRET)$/);
    expect(testSecrets()).toEqual(expect.arrayContaining(["pd-secret-current", "zapier-test-token", "test-dex-token", "admin-test-token"]));
  });

  it("would see a leak: the marker and a secret are caught when they are logged", async () => {
    console.error(JSON.stringify({ event: "oops", body: MARKER }));
    forbidden.set(await hmacSha256Hex("x", "y"), "a signature");
    expect(() => expectNothingLeaked()).toThrow(/the payload marker appears in log line 0/);
  });
});
