import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { MAX_BODY_BYTES } from "../../src/receive/alerts-route";
import { SOURCE_NAMES, SOURCES } from "../../src/sources/registry";
import { awkwardText, mutateForm, mutateJson, mutations, PROTOTYPE_KEYS } from "../helpers/arbitraries";
import { RELAY } from "../helpers/relay";
import { invalidAuthVariants, testSecrets, validAuthHeaders } from "../helpers/source-auth";
import { fixturesOf, type SourceFixture } from "../helpers/source-fixtures";

/**
 * Every source, through the Worker's real fetch handler, fed random and mutated payloads,
 * header sets and content types. Whatever arrives: never a 5xx, never accepted without
 * valid auth, every refusal a JSON `{ error }`, nothing queued unless authentic and 202,
 * and no outbound call (ingest talks to nobody).
 *
 * Runs are bounded so the whole file stays within a few seconds per source.
 */
const RUNS = { random: 150, mutated: 150, nearMiss: 80, unknownSource: 100 };
/** Generous, so a slow CI machine fails on a property rather than on a timeout. */
const TIMEOUT_MS = 60_000;
/**
 * Every shrink step is a request, some of them large: a failure is shrunk this far and no
 * further. (fast-check's `interruptAfterTimeLimit` is not used: it abandons a run in flight,
 * which then carries on into the next test.)
 */
const MAX_SHRINKS = 100;

const FORM = "application/x-www-form-urlencoded";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PROTOTYPE_BEFORE = Object.getOwnPropertyNames(Object.prototype).sort();
const SECRETS = testSecrets();

/** Cloudflare Queues refuse a message larger than this (miniflare enforces the same figure). */
const QUEUE_MESSAGE_LIMIT_BYTES = 128_000;

let send: MockInstance<Queue["send"]>;
let outbound: MockInstance<typeof fetch>;

beforeEach(() => {
  // Captured rather than delivered, but refused like the real queue refuses an oversized message.
  send = vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    const size = encoder.encode(JSON.stringify(body)).length;
    if (size > QUEUE_MESSAGE_LIMIT_BYTES) {
      throw new Error(`Queue send failed: message length of ${size} bytes exceeds limit of ${QUEUE_MESSAGE_LIMIT_BYTES}`);
    }
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
  });
  outbound = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    throw new Error(`unexpected outbound request: ${input instanceof Request ? input.url : String(input)}`);
  });
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

// ---------- what a request is made of ----------

const interestingHeaderNames = fc.constantFrom(
  "authorization",
  "x-pagerduty-signature",
  "x-grafana-alerting-signature",
  "x-grafana-alerting-timestamp",
  "x-webhook-id",
  "idempotency-key",
  "content-encoding",
  "x-forwarded-for",
  "cookie",
  "accept",
  "__proto__",
  "constructor",
);
const headerName = fc.oneof(interestingHeaderNames, fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/));
/** Header values as a client can send them: visible ASCII and spaces, sometimes long. */
const headerValue = fc.oneof(
  { arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }), weight: 8 },
  { arbitrary: fc.integer({ min: 200, max: 2000 }).map((n) => "w".repeat(n)), weight: 1 },
  { arbitrary: fc.constantFrom("gzip", "br", "deflate", "Bearer", "v1=", "v1=,v1=", "null"), weight: 1 },
);
const randomHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 6 });

/** Ways senders spell one media type: all must be taken as that type. */
const spelling = fc.constantFrom(
  (t: string) => t,
  (t: string) => t.toUpperCase(),
  (t: string) => `${t}; charset=utf-8`,
  (t: string) => ` ${t} ;charset="UTF-8"`,
);

/** A Content-Type header, or none: the source's own types in every spelling, others, and junk. */
function anyContentType(source: string) {
  const accepted = SOURCES[source]?.contentTypes ?? [];
  const variants = accepted.flatMap((t) => [t, t.toUpperCase(), `${t}; charset=utf-8`, ` ${t} ;charset="UTF-8"`]);
  return fc.oneof(
    fc.constantFrom(...variants),
    fc.constantFrom(
      undefined,
      "",
      "text/plain",
      "application/xml",
      "multipart/form-data; boundary=x",
      "application/json-patch+json",
      "application/jsonx",
      "*/*",
      FORM,
      "application/json",
      ";application/json",
    ),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  );
}

/** The real fixtures of `source`, or an empty object for a source that ships none. */
function samplesOf(source: string): SourceFixture[] {
  const fixtures = fixturesOf(source);
  return fixtures.length ? fixtures : [{ source, name: "(no fixture)", body: "{}", contentType: "application/json" }];
}

/** A fixture of `source` with random mutations, as text in the fixture's own encoding. */
function mutatedFixture(source: string) {
  const samples = samplesOf(source);
  return fc.record({ fixture: fc.constantFrom(...samples), applied: fc.option(mutations, { nil: undefined }) }).map(({ fixture, applied }) => {
    if (!applied) return { fixture, body: fixture.body };
    const body = fixture.contentType === FORM ? mutateForm(fixture.body, applied) : (JSON.stringify(mutateJson(JSON.parse(fixture.body), applied)) ?? "null");
    return { fixture, body };
  });
}

type Body = string | Uint8Array;

function randomBody(source: string): fc.Arbitrary<Body> {
  return fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 3 },
    { arbitrary: mutatedFixture(source).map((m) => m.body), weight: 4 },
    { arbitrary: awkwardText(200), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
    { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS).map((k) => `{"${k}": {"polluted": true}, "title": "x"}`), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 1024 }).map((n) => "x".repeat(MAX_BODY_BYTES + n)), weight: 1 },
  );
}

const bytesOf = (body: Body) => (typeof body === "string" ? encoder.encode(body).length : body.length);
const textOf = (body: Body) => (typeof body === "string" ? body : decoder.decode(body));

// ---------- what every answer must satisfy ----------

interface Sent {
  /** What the request was, for failure messages. */
  label: string;
  request: Request;
  validAuth: boolean;
  bodyBytes: number;
}

/** The refusal the relay's ordered checks must give, or "accepted" when every check up to auth passes. */
function expectedOutcome(source: string | undefined, sent: Sent): number | "accepted" {
  const { request } = sent;
  if (request.method !== "POST") return 404;
  if (sent.bodyBytes > MAX_BODY_BYTES) return 413;
  if (!source || !SOURCES[source]) return 404;
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!SOURCES[source]!.contentTypes.includes(mediaType)) return 415;
  return sent.validAuth ? "accepted" : 401;
}

async function sendAndCheck(source: string | undefined, sent: Sent): Promise<number> {
  send.mockClear();
  outbound.mockClear();
  const response = await exports.default.fetch(sent.request);
  const text = await response.text();
  const where = `${sent.label} → ${response.status} ${text.slice(0, 300)}`;

  expect(response.status, where).toBeLessThan(500);
  const expected = expectedOutcome(source, sent);
  // 415: a JSON object labelled as a form (Zapier) is refused with a hint, like any wrong type.
  if (expected === "accepted") expect([200, 202, 400, 415], where).toContain(response.status);
  else expect(response.status, where).toBe(expected);
  if (!sent.validAuth) expect(response.status, where).not.toBeLessThan(300);

  const json = JSON.parse(text) as Record<string, unknown>;
  if (response.status >= 400) {
    expect(Object.keys(json), where).toEqual(["error"]);
    expect(typeof json.error, where).toBe("string");
    expect((json.error as string).trim(), where).not.toBe("");
  }

  // A delivery too large for one message is queued in several parts.
  if (response.status === 202) expect(send.mock.calls.length, where).toBeGreaterThan(0);
  else expect(send, where).not.toHaveBeenCalled();
  if (response.status === 202) expect(sent.validAuth, where).toBe(true);
  expect(outbound, where).not.toHaveBeenCalled();
  for (const secret of SECRETS) expect(text, where).not.toContain(secret);
  expect(Object.getOwnPropertyNames(Object.prototype).sort(), where).toEqual(PROTOTYPE_BEFORE);
  return response.status;
}

function buildRequest(path: string, method: string, headers: Record<string, string>, contentType: string | undefined, body: Body | undefined) {
  const all = new Headers();
  for (const [name, value] of Object.entries(headers)) all.set(name, value);
  if (contentType !== undefined) all.set("content-type", contentType);
  // Sent as the UTF-8 bytes the signature covers: workerd would encode a lone surrogate of a
  // string body as WTF-8, so a string body is not what a real sender puts on the wire.
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return new Request(`${RELAY}${path}`, { method, headers: all, body: method === "GET" ? undefined : bytes });
}

function describeHeaders(headers: Record<string, string>) {
  return JSON.stringify(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v])));
}

/** `fc.assert` over HTTP: `numRuns` requests, and a failure shrunk at most {@link MAX_SHRINKS} steps. */
function assertOverHttp<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>) {
  return fc.assert(fc.asyncProperty(fc.limitShrink(arbitrary, MAX_SHRINKS), check), { numRuns });
}

// ---------- the properties ----------

describe.each(SOURCE_NAMES)("POST /v1/alerts/%s under random input", (source) => {
  it(
    "random payloads, headers, content types and credentials: never 5xx, never accepted without valid auth",
    async () => {
      const variants = await invalidAuthVariants(source, "{}");
      const request = fc.tuple(
        randomBody(source),
        randomHeaders,
        anyContentType(source),
        fc.oneof(fc.constant("valid" as const), fc.constant("random" as const), fc.nat({ max: variants.length - 1 })),
        fc.oneof({ arbitrary: fc.constant("POST"), weight: 9 }, { arbitrary: fc.constantFrom("GET", "PUT", "PATCH", "DELETE"), weight: 1 }),
      );
      await assertOverHttp(request, RUNS.random, async ([body, extra, contentType, authChoice, method]) => {
        // Signed over the bytes sent, as senders sign; the relay verifies those bytes.
        const text = textOf(body);
        const auth =
          authChoice === "valid"
            ? await validAuthHeaders(source, body)
            : authChoice === "random"
              ? {}
              : (await invalidAuthVariants(source, text))[authChoice]!.headers;
        const headers = { ...extra, ...auth };
        await sendAndCheck(source, {
          label: `${method} ${source} auth=${authChoice} type=${JSON.stringify(contentType)} headers=${describeHeaders(headers)} body=${JSON.stringify(text.slice(0, 120))}`,
          request: buildRequest(`/v1/alerts/${source}`, method, headers, contentType, body),
          validAuth: authChoice === "valid",
          bodyBytes: method === "GET" ? 0 : bytesOf(body),
        });
      });
    },
    TIMEOUT_MS,
  );

  it(
    "valid auth and mutated real payloads: 2xx or 400, never 5xx",
    async () => {
      const replayHeaders = fc.dictionary(fc.constantFrom("x-webhook-id", "idempotency-key", "x-request-id"), headerValue, { maxKeys: 2 });
      await assertOverHttp(fc.tuple(mutatedFixture(source), replayHeaders, spelling), RUNS.mutated, async ([{ fixture, body }, extra, spell]) => {
        expect(SOURCES[source]!.contentTypes).toContain(fixture.contentType);
        const headers = { ...extra, ...(await validAuthHeaders(source, body)) };
        await sendAndCheck(source, {
          label: `${source} ${fixture.name} mutated headers=${describeHeaders(headers)} body=${JSON.stringify(body.slice(0, 200))}`,
          request: buildRequest(`/v1/alerts/${source}`, "POST", headers, spell(fixture.contentType), body),
          validAuth: true,
          bodyBytes: bytesOf(body),
        });
      });
    },
    TIMEOUT_MS,
  );

  it(
    "near-miss credentials on real payloads: always 401, nothing queued",
    async () => {
      const count = (await invalidAuthVariants(source, "{}")).length;
      await assertOverHttp(fc.tuple(mutatedFixture(source), fc.nat({ max: count - 1 })), RUNS.nearMiss, async ([{ fixture, body }, choice]) => {
        const variant = (await invalidAuthVariants(source, body))[choice]!;
        await sendAndCheck(source, {
          label: `${source} ${fixture.name} auth=${variant.name}`,
          request: buildRequest(`/v1/alerts/${source}`, "POST", variant.headers, fixture.contentType, body),
          validAuth: false,
          bodyBytes: bytesOf(body),
        });
      });
    },
    TIMEOUT_MS,
  );
});

describe("POST /v1/alerts/{unknown}", () => {
  it(
    "answers 404 (or 413 for an oversized body) and queues nothing, whatever the name and credentials",
    async () => {
      const name = fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_~-]{1,24}$/),
        fc.constantFrom(...PROTOTYPE_KEYS, "PagerDuty", "ZAPIER", "pagerduty%20", "%E0%A4%A", "%", "zapier%00", "a%2Fb"),
      );
      const anySource = fc.constantFrom(...SOURCE_NAMES);
      await assertOverHttp(fc.tuple(name, anySource, randomBody(SOURCE_NAMES[0]!)), RUNS.unknownSource, async ([segment, lookalike, body]) => {
        fc.pre(!SOURCE_NAMES.includes(safeDecode(segment)));
        const headers = await validAuthHeaders(lookalike, textOf(body));
        await sendAndCheck(undefined, {
          label: `POST /v1/alerts/${segment} with ${lookalike}'s auth`,
          request: buildRequest(`/v1/alerts/${segment}`, "POST", headers, "application/json", body),
          // Valid for another source: still nothing may be accepted.
          validAuth: false,
          bodyBytes: bytesOf(body),
        });
      });
    },
    TIMEOUT_MS,
  );
});

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Counterexamples the properties found, kept as plain examples so they never come back. */
describe("regressions found by the properties", () => {
  it("accepts a signed PagerDuty delivery whose X-Webhook-Id is longer than a KV key allows (was a 500)", async () => {
    const [triggered] = fixturesOf("pagerduty").filter((f) => f.name === "incident.triggered.json");
    const body = triggered!.body;
    const headers = { ...(await validAuthHeaders("pagerduty", body)), "x-webhook-id": "w".repeat(600) };
    const status = await sendAndCheck("pagerduty", {
      label: "pagerduty with a 600-character X-Webhook-Id",
      request: buildRequest("/v1/alerts/pagerduty", "POST", headers, "application/json", body),
      validAuth: true,
      bodyBytes: bytesOf(body),
    });
    expect(status).toBe(202);
  });

  /**
   * One alert larger than a queue message can never be queued, however the delivery is
   * split: answering 503 makes the sender retry it for hours (PagerDuty: 48 h) to no end.
   * Each body is well-formed and authentic; it must be taken (cut down) or refused with a
   * 4xx, never a 5xx.
   */
  const HUGE = "x".repeat(QUEUE_MESSAGE_LIMIT_BYTES + 1000);
  const oversized: Array<[source: string, field: string, fixture: string, grow: (doc: any) => void]> = [
    ["pagerduty", "event.data.title", "incident.triggered.json", (doc) => (doc.event.data.title = `VPN down for jane.doe@example.com ${HUGE}`)],
    ["pagerduty", "event.data.service.summary", "incident.triggered.json", (doc) => (doc.event.data.service.summary = HUGE)],
    ["alertmanager", "alerts[0].labels.note", "packet-loss.firing.json", (doc) => (doc.alerts[0].labels.note = HUGE)],
    ["grafana", "alerts[0].labels.note", "dns-latency.firing.json", (doc) => (doc.alerts[0].labels.note = HUGE)],
    ["datadog", "tags", "triggered.json", (doc) => (doc.tags = `${doc.tags},note:${HUGE}`)],
  ];
  it.each(oversized.filter(([source]) => SOURCE_NAMES.includes(source)))(
    "answers a single %s alert larger than a queue message (huge %s) with 2xx or 4xx, not 503",
    async (source, _, fixtureName, grow) => {
      const fixture = fixturesOf(source).find((f) => f.name === fixtureName)!;
      const doc = JSON.parse(fixture.body);
      grow(doc);
      const body = JSON.stringify(doc);
      await sendAndCheck(source, {
        label: `${source} ${fixtureName} with one field of ${HUGE.length} characters`,
        request: buildRequest(`/v1/alerts/${source}`, "POST", await validAuthHeaders(source, body), "application/json", body),
        validAuth: true,
        bodyBytes: bytesOf(body),
      });
    },
  );
});
