/// <reference types="vite/client" />
import { createExecutionContext, reset, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { hmacSha256Hex } from "../../src/crypto/hmac";
import { MAX_SIGNATURES_EXAMINED } from "../../src/sources/pagerduty/signature";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { post, RELAY, watchRefusals } from "../helpers/relay";
import { authOf, bindingValue } from "../helpers/source-auth";
import { signStandardWebhook, standardWebhookHeaders } from "../helpers/sign";
import { fixturesOf } from "../helpers/source-fixtures";

/**
 * Authentication at the door, through HTTP: near misses of every credential are refused
 * with a 401 and nothing is queued; the documented leniencies (upper-case hex, a
 * lower-case `bearer`, a rotation's second secret) are accepted.
 */

const JSON_TYPE = "application/json";

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    throw new Error(`unexpected outbound request: ${input instanceof Request ? input.url : String(input)}`);
  });
});
afterEach(async () => {
  expect(globalThis.fetch).not.toHaveBeenCalled();
  vi.restoreAllMocks();
  await reset();
});

/** Posts `body` to `source` with `headers`; the queue is captured. */
function postTo(source: string, body: string, headers: Record<string, string>) {
  return post(`/v1/alerts/${source}`, { headers: { "content-type": JSON_TYPE, ...headers }, body });
}

/** Posts through `app.request` with some bindings changed, the queue captured. */
async function postWithEnv(source: string, body: string, headers: Record<string, string>, bindings: Record<string, unknown>) {
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
  const refusals = watchRefusals();
  const ctx = createExecutionContext();
  const response = await app.request(
    `${RELAY}/v1/alerts/${source}`,
    { method: "POST", headers: { "content-type": JSON_TYPE, ...headers }, body },
    { ...env, ...bindings } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const json = await response.json<Record<string, any>>();
  const queued = send.mock.calls.map(([message]) => message as DeliveryMessage);
  send.mockRestore();
  refusals.stop();
  if (response.status === 401) expect(json).toEqual({ error: "unauthorized" });
  return { status: response.status, json, queued, reason: refusals.reason() };
}

function fixture(source: string, name?: string): string {
  const all = fixturesOf(source).filter((f) => f.contentType === JSON_TYPE);
  const found = name ? all.find((f) => f.name === name) : all[0];
  if (!found) throw new Error(`no JSON fixture ${name ?? ""} for ${source}`);
  return found.body;
}

describe("PagerDuty signatures (X-PagerDuty-Signature)", () => {
  const SECRET = "pd-secret-current";
  const body = fixture("pagerduty", "incident.triggered.json");
  const sign = (text: string, secret = SECRET) => hmacSha256Hex(secret, text);
  const postSigned = (signature: string, text = body) => postTo("pagerduty", text, { "x-pagerduty-signature": signature });

  async function expectRefused(signature: string, message: RegExp, text = body) {
    const { status, json, queued, reason } = await postSigned(signature, text);
    expect(status).toBe(401);
    expect(reason).toMatch(message);
    expect(json).toEqual({ error: "unauthorized" });
    expect(queued).toEqual([]);
  }

  it("accepts the body signed with the current secret", async () => {
    const { status, queued } = await postSigned(`v1=${await sign(body)}`);
    expect(status).toBe(202);
    expect(queued).toHaveLength(1);
  });

  it("refuses a body changed by one byte after signing", async () => {
    const signature = `v1=${await sign(body)}`;
    const tampered = body.replace("8%", "9%");
    expect(tampered).not.toBe(body);
    expect(tampered.length).toBe(body.length);
    await expectRefused(signature, /^signature does not match$/, tampered);
  });

  it("refuses a body with one byte appended after signing", async () => {
    await expectRefused(`v1=${await sign(body)}`, /^signature does not match$/, `${body} `);
  });

  it("refuses a truncated signature", async () => {
    const hex = await sign(body);
    for (const cut of [hex.slice(0, -1), hex.slice(0, -2), hex.slice(0, 32), ""]) {
      await expectRefused(`v1=${cut}`, /^(signature does not match|X-PagerDuty-Signature has no v1 signature)$/);
    }
  });

  it("refuses a signature with extra hex digits", async () => {
    const hex = await sign(body);
    for (const padded of [`${hex}0`, `${hex}00`, `00${hex}`, `${hex}${hex}`]) {
      await expectRefused(`v1=${padded}`, /^signature does not match$/);
    }
  });

  it("accepts the signature in upper-case hex: the hex is decoded and the HMAC bytes compared, so case carries no meaning", async () => {
    const { status } = await postSigned(`v1=${(await sign(body)).toUpperCase()}`);
    expect(status).toBe(202);
  });

  it.each(["v0=", "sha256=", "V1=", "v2=", "v1 =", ""])("refuses the right HMAC under the scheme %j", async (scheme) => {
    await expectRefused(`${scheme}${await sign(body)}`, /^X-PagerDuty-Signature has no v1 signature$/);
  });

  it("refuses an empty or missing header", async () => {
    await expectRefused("", /^missing X-PagerDuty-Signature header$/);
    const unsigned = await postTo("pagerduty", body, {});
    expect(unsigned.status).toBe(401);
    expect(unsigned.reason).toBe("missing X-PagerDuty-Signature header");
    await expectRefused("v1=", /^X-PagerDuty-Signature has no v1 signature$/);
    await expectRefused(" , ,", /^X-PagerDuty-Signature has no v1 signature$/);
  });

  it("refuses an HMAC under another secret, or the secret itself", async () => {
    await expectRefused(`v1=${await sign(body, "pd-secret-revoked")}`, /^signature does not match$/);
    await expectRefused(`v1=${SECRET}`, /^signature does not match$/);
  });

  describe(`padded headers: at most ${MAX_SIGNATURES_EXAMINED} v1 entries are examined`, () => {
    const junk = (n: number) => Array.from({ length: n }, (_, i) => `v1=${i.toString(16).padStart(64, "0")}`);

    it("refuses 50 junk v1 signatures followed by the good one", async () => {
      expect(MAX_SIGNATURES_EXAMINED).toBe(10);
      await expectRefused([...junk(50), `v1=${await sign(body)}`].join(","), /^signature does not match$/);
    });

    it(`accepts the good one as entry ${MAX_SIGNATURES_EXAMINED}, refuses it as entry ${MAX_SIGNATURES_EXAMINED + 1}`, async () => {
      const good = `v1=${await sign(body)}`;
      expect((await postSigned([...junk(MAX_SIGNATURES_EXAMINED - 1), good].join(","))).status).toBe(202);
      await expectRefused([...junk(MAX_SIGNATURES_EXAMINED), good].join(","), /^signature does not match$/);
    });

    it("accepts the good one first, whatever follows", async () => {
      expect((await postSigned([`v1=${await sign(body)}`, ...junk(50)].join(","))).status).toBe(202);
    });

    it("does not count entries of other versions toward the cap", async () => {
      const otherVersions = Array.from({ length: 50 }, (_, i) => `v0=${i}`);
      expect((await postSigned([...otherVersions, `v1=${await sign(body)}`].join(","))).status).toBe(202);
    });

    it("accepts the good one sent as a second header line", async () => {
      const headers = new Headers({ "content-type": JSON_TYPE });
      headers.append("x-pagerduty-signature", `v1=${await sign(body, "pd-secret-revoked")}`);
      headers.append("x-pagerduty-signature", `v1=${await sign(body)}`);
      const { status } = await post("/v1/alerts/pagerduty", { headers, body });
      expect(status).toBe(202);
    });
  });

  describe("secret rotation (PAGERDUTY_WEBHOOK_SECRET holds old and new, comma-separated)", () => {
    const rotating = { PAGERDUTY_WEBHOOK_SECRET: "pd-secret-old,pd-secret-new" };

    it.each(["pd-secret-old", "pd-secret-new"])("accepts a body signed with %s alone", async (secret) => {
      const { status, queued } = await postWithEnv("pagerduty", body, { "x-pagerduty-signature": `v1=${await sign(body, secret)}` }, rotating);
      expect(status).toBe(202);
      expect(queued).toHaveLength(1);
    });

    it("accepts PagerDuty's rotation header, one v1 per secret", async () => {
      const header = `v1=${await sign(body, "pd-secret-old")},v1=${await sign(body, "pd-secret-new")}`;
      expect((await postWithEnv("pagerduty", body, { "x-pagerduty-signature": header }, rotating)).status).toBe(202);
    });

    it("tolerates spaces around the secrets", async () => {
      const spaced = { PAGERDUTY_WEBHOOK_SECRET: " pd-secret-old , pd-secret-new " };
      expect((await postWithEnv("pagerduty", body, { "x-pagerduty-signature": `v1=${await sign(body, "pd-secret-new")}` }, spaced)).status).toBe(202);
    });

    it("refuses a secret that is no longer listed", async () => {
      const { status, queued } = await postWithEnv("pagerduty", body, { "x-pagerduty-signature": `v1=${await sign(body, SECRET)}` }, rotating);
      expect(status).toBe(401);
      expect(queued).toEqual([]);
    });

    it.each([undefined, "", "  ", ",", " , "])("refuses everything while the secret is %j, even what the old secret signed", async (value) => {
      for (const secret of [SECRET, "undefined", ","]) {
        const { status, json, queued, reason } = await postWithEnv(
          "pagerduty",
          body,
          { "x-pagerduty-signature": `v1=${await sign(body, secret)}` },
          { PAGERDUTY_WEBHOOK_SECRET: value },
        );
        expect(status).toBe(401);
        expect(json).toEqual({ error: "unauthorized" });
        expect(reason).toMatch(/PAGERDUTY_WEBHOOK_SECRET is not set/);
        expect(queued).toEqual([]);
      }
    });
  });
});

describe.each(SOURCE_NAMES.filter((s) => authOf(s).kind === "bearer"))("%s bearer token", (source) => {
  const binding = authOf(source).binding;
  const body = fixture(source);
  const postWith = (authorization: string | undefined) => postTo(source, body, authorization === undefined ? {} : { authorization });
  const token = () => bindingValue(binding);

  async function expectRefused(authorization: string | undefined, message: RegExp) {
    const { status, json, queued, reason } = await postWith(authorization);
    expect(status, `Authorization: ${authorization}`).toBe(401);
    expect(reason).toMatch(message);
    expect(json).toEqual({ error: "unauthorized" });
    expect(reason).not.toContain(token());
    expect(queued).toEqual([]);
  }

  it("accepts the token", async () => {
    const { status } = await postWith(`Bearer ${token()}`);
    expect([200, 202]).toContain(status);
  });

  it("refuses a wrong token of the same length", async () => {
    const wrong = token().replace(/.$/, (c) => (c === "x" ? "y" : "x"));
    expect(wrong).toHaveLength(token().length);
    await expectRefused(`Bearer ${wrong}`, /^invalid bearer token$/);
  });

  it("refuses a token cut short, padded, or repeated", async () => {
    for (const wrong of [token().slice(0, -1), token().slice(1), `${token()}x`, `${token()}${token()}`, "x", token()[0]!]) {
      await expectRefused(`Bearer ${wrong}`, /^invalid bearer token$/);
    }
  });

  it("refuses the token of another binding", async () => {
    for (const other of ["DEX_API_TOKEN", "ADMIN_TOKEN"]) {
      await expectRefused(`Bearer ${bindingValue(other)}`, /^invalid bearer token$/);
    }
  });

  it("refuses the Basic scheme, even carrying the token", async () => {
    await expectRefused(`Basic ${btoa(`relay:${token()}`)}`, /^Authorization must be 'Bearer <token>'$/);
    await expectRefused(`Basic ${token()}`, /^Authorization must be 'Bearer <token>'$/);
  });

  it("refuses the token without a scheme, under another scheme, or followed by more words", async () => {
    for (const header of [token(), `Token ${token()}`, `Bearer:${token()}`, `Bearer ${token()} extra`, `Bearer x ${token()}`, "Bearer"]) {
      await expectRefused(header, /^Authorization must be 'Bearer <token>'$/);
    }
  });

  it("refuses a missing or empty header", async () => {
    await expectRefused(undefined, /^missing Authorization header$/);
    await expectRefused("", /^missing Authorization header$/);
  });

  it("accepts the scheme in any case, as RFC 9110 says auth schemes are case-insensitive", async () => {
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const { status } = await postWith(`${scheme} ${token()}`);
      expect([200, 202], scheme).toContain(status);
    }
  });

  it("accepts extra spaces between the scheme and the token", async () => {
    const { status } = await postWith(`Bearer    ${token()}   `);
    expect([200, 202]).toContain(status);
  });

  it.each([undefined, "", "   "])(`refuses everything while ${binding} is %j, the old token and an empty one alike`, async (value) => {
    for (const header of [`Bearer ${token()}`, "Bearer ", "Bearer undefined", undefined]) {
      const { status, json, queued, reason } = await postWithEnv(source, body, header === undefined ? {} : { authorization: header }, { [binding]: value });
      expect(status, `Authorization: ${header}`).toBe(401);
      expect(json).toEqual({ error: "unauthorized" });
      expect(reason).toMatch(new RegExp(`${binding} is not set`));
      expect(queued).toEqual([]);
    }
  });
});

describe.runIf(SOURCE_NAMES.includes("grafana"))("Grafana signatures (X-Grafana-Alerting-Signature)", () => {
  const SECRET = "grafana-test-secret";
  const TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp";
  const withTimestamps = { GRAFANA_TIMESTAMP_HEADER: TIMESTAMP_HEADER };
  const body = SOURCE_NAMES.includes("grafana") ? fixture("grafana", "dns-latency.firing.json") : "";
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const signed = async (timestamp: number | string, text = body, secret = SECRET) => ({
    "x-grafana-alerting-signature": await hmacSha256Hex(secret, `${timestamp}:${text}`),
    [TIMESTAMP_HEADER]: String(timestamp),
  });

  it("accepts a body signed without a timestamp while no timestamp header is configured", async () => {
    const { status } = await postTo("grafana", body, { "x-grafana-alerting-signature": await hmacSha256Hex(SECRET, body) });
    expect(status).toBe(202);
  });

  it("refuses a changed body, a truncated or padded signature, and another secret", async () => {
    const good = await hmacSha256Hex(SECRET, body);
    for (const [text, signature] of [
      [body.replace("412 ms", "413 ms"), good],
      [body, good.slice(0, -1)],
      [body, `${good}00`],
      [body, `sha256=${good}`],
      [body, await hmacSha256Hex("grafana-old-secret", body)],
      [body, ""],
    ] as const) {
      const { status, queued } = await postTo("grafana", text, { "x-grafana-alerting-signature": signature });
      expect(status, signature).toBe(401);
      expect(queued).toEqual([]);
    }
  });

  it("judges a signed delivery by its signature alone: a valid bearer token does not rescue a wrong signature", async () => {
    const { status } = await postTo("grafana", body, {
      "x-grafana-alerting-signature": await hmacSha256Hex("grafana-old-secret", body),
      authorization: `Bearer ${bindingValue("GRAFANA_TOKEN")}`,
    });
    expect(status).toBe(401);
  });

  it("accepts a fresh timestamp, signed as timestamp:body", async () => {
    const { status, queued } = await postWithEnv("grafana", body, await signed(nowSeconds()), withTimestamps);
    expect(status).toBe(202);
    expect(queued).toHaveLength(1);
  });

  it("accepts a timestamp a little inside the tolerance, either way", async () => {
    for (const skew of [-290, 290]) {
      expect((await postWithEnv("grafana", body, await signed(nowSeconds() + skew), withTimestamps)).status).toBe(202);
    }
  });

  it("refuses a stale timestamp, however well signed: a captured request cannot be replayed later", async () => {
    for (const age of [301, 3600, 86_400 * 365]) {
      const { status, json, queued, reason } = await postWithEnv("grafana", body, await signed(nowSeconds() - age), withTimestamps);
      expect(status).toBe(401);
      expect(json).toEqual({ error: "unauthorized" });
      expect(reason).toBe("timestamp is too old");
      expect(queued).toEqual([]);
    }
  });

  it("refuses a timestamp from the future", async () => {
    // Well past the tolerance: the relay reads its clock a moment after the test does, and
    // one second later a timestamp 301 s ahead would be exactly at the limit.
    const { status, json, reason } = await postWithEnv("grafana", body, await signed(nowSeconds() + 330), withTimestamps);
    expect(status).toBe(401);
    expect(json).toEqual({ error: "unauthorized" });
    expect(reason).toBe("timestamp is too new");
  });

  it("refuses a replay whose timestamp was moved forward, since the signature covers it", async () => {
    const captured = await signed(nowSeconds() - 3600);
    const replay = { ...captured, [TIMESTAMP_HEADER]: String(nowSeconds()) };
    const { status, json, reason } = await postWithEnv("grafana", body, replay, withTimestamps);
    expect(status).toBe(401);
    expect(json).toEqual({ error: "unauthorized" });
    expect(reason).toBe("signature does not match");
  });

  it("refuses a signature over the body alone once timestamps are configured", async () => {
    const headers = { "x-grafana-alerting-signature": await hmacSha256Hex(SECRET, body), [TIMESTAMP_HEADER]: String(nowSeconds()) };
    expect((await postWithEnv("grafana", body, headers, withTimestamps)).status).toBe(401);
  });

  it("refuses a missing or malformed timestamp", async () => {
    const missing = { "x-grafana-alerting-signature": await hmacSha256Hex(SECRET, body) };
    expect(await postWithEnv("grafana", body, missing, withTimestamps)).toMatchObject({ status: 401, reason: `missing ${TIMESTAMP_HEADER} header` });
    for (const timestamp of [`${Date.now()}`, "1.5e9", "-1", "", " 1773312488", "0x6a0b"]) {
      const { status } = await postWithEnv("grafana", body, await signed(timestamp), withTimestamps);
      expect(status, JSON.stringify(timestamp)).toBe(401);
    }
  });

  it("accepts a replay inside the tolerance at the door, where the episode it names is the same, so nothing acts twice", async () => {
    const headers = await signed(nowSeconds());
    const first = await postWithEnv("grafana", body, headers, withTimestamps);
    const replay = await postWithEnv("grafana", body, headers, withTimestamps);
    // Within the window a replay is indistinguishable from Grafana's own resend; the
    // episode (fingerprint + startsAt) is what stops a second command downstream.
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.queued[0]!.alerts.map((a) => a.episode)).toEqual(first.queued[0]!.alerts.map((a) => a.episode));
  });

  it("refuses a signed delivery while GRAFANA_WEBHOOK_SECRET is unset, and everything while neither binding is set", async () => {
    const headers = { "x-grafana-alerting-signature": await hmacSha256Hex(SECRET, body), authorization: `Bearer ${bindingValue("GRAFANA_TOKEN")}` };
    expect(await postWithEnv("grafana", body, headers, { GRAFANA_WEBHOOK_SECRET: " " })).toMatchObject({ status: 401, queued: [] });
    const none = await postWithEnv("grafana", body, headers, { GRAFANA_WEBHOOK_SECRET: undefined, GRAFANA_TOKEN: "" });
    expect(none).toMatchObject({ status: 401, queued: [] });
    expect(none.reason).toMatch(/GRAFANA_WEBHOOK_SECRET nor GRAFANA_TOKEN is set/);
  });
});

describe.runIf(SOURCE_NAMES.includes("webhook"))("Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature)", () => {
  const SECRET = bindingValue("WEBHOOK_SECRET");
  const body = SOURCE_NAMES.includes("webhook") ? fixture("webhook", "vpn-packet-loss.firing.json") : "";
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const signed = (options: { id?: string; timestamp?: number | string } = {}, text = body, secrets = [SECRET]) =>
    standardWebhookHeaders(text, secrets, options);

  async function expectRefused(headers: Record<string, string>, message: RegExp, text = body, bindings: Record<string, unknown> = {}) {
    const { status, json, queued, reason } = await postWithEnv("webhook", text, headers, bindings);
    expect(status, JSON.stringify(headers)).toBe(401);
    expect(reason).toMatch(message);
    expect(reason).not.toContain(SECRET);
    expect(json).toEqual({ error: "unauthorized" });
    expect(queued).toEqual([]);
  }

  it("accepts the body signed over id.timestamp.body, and keys redeliveries on webhook-id", async () => {
    const headers = await signed({ id: "msg_2ZxSecurity1" });
    const first = await postTo("webhook", body, headers);
    expect(first.status).toBe(202);
    expect(first.queued).toHaveLength(1);
    const retry = await postTo("webhook", body, headers);
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ status: "duplicate", delivery_id: first.json.delivery_id });
  });

  it("refuses a body changed by one byte, or with a byte appended, after signing", async () => {
    const headers = await signed();
    const tampered = body.replace("11%", "12%");
    expect(tampered).not.toBe(body);
    await expectRefused(headers, /^signature does not match$/, tampered);
    await expectRefused(headers, /^signature does not match$/, `${body} `);
  });

  it("refuses a signature moved to another webhook-id or timestamp, since both are signed", async () => {
    const headers = await signed({ id: "msg_original" });
    await expectRefused({ ...headers, "webhook-id": "msg_replayed" }, /^signature does not match$/);
    await expectRefused({ ...headers, "webhook-timestamp": String(nowSeconds() - 1) }, /^signature does not match$/);
  });

  it("refuses a stale or future timestamp, however well signed: a captured request cannot be replayed later", async () => {
    for (const skew of [-301, -3600, -86_400 * 365]) await expectRefused(await signed({ timestamp: nowSeconds() + skew }), /^timestamp is too old$/);
    for (const skew of [301, 3600]) await expectRefused(await signed({ timestamp: nowSeconds() + skew }), /^timestamp is too new$/);
    for (const skew of [-290, 290]) expect((await postTo("webhook", body, await signed({ timestamp: nowSeconds() + skew }))).status).toBe(202);
  });

  it("refuses a malformed timestamp", async () => {
    for (const timestamp of [`${Date.now()}`, "1.5e9", "-1", "0x6a0b", "now"]) {
      const { status } = await postTo("webhook", body, await signed({ timestamp }));
      expect(status, timestamp).toBe(401);
    }
  });

  it("refuses a missing header of the three, naming it", async () => {
    const headers = await signed();
    for (const name of ["webhook-id", "webhook-timestamp"]) {
      const without = Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
      await expectRefused(without, new RegExp(`^missing ${name} header$`));
    }
    await expectRefused({ ...headers, "webhook-signature": "" }, /^missing webhook-signature header$/);
  });

  it.each(["v1a,", "v2,", "V1,", "v1=", "sha256=", "v1, "])("refuses the right HMAC under the scheme %j", async (scheme) => {
    const headers = await signed();
    await expectRefused({ ...headers, "webhook-signature": headers["webhook-signature"]!.replace("v1,", scheme) }, /^webhook-signature has no v1 signature$/);
  });

  it("refuses an HMAC under another secret, or the secret itself", async () => {
    const headers = await signed({}, body, [`whsec_${btoa("a revoked webhook signing key")}`]);
    await expectRefused(headers, /^signature does not match$/);
    await expectRefused(
      { ...headers, "webhook-signature": `v1,${SECRET.slice("whsec_".length)}` },
      /^(signature does not match|webhook-signature has no v1 signature)$/,
    );
  });

  it("judges a signed delivery by its signature alone: a valid bearer token does not rescue a wrong signature", async () => {
    const headers = await signed({}, body, [`whsec_${btoa("a revoked webhook signing key")}`]);
    await expectRefused({ ...headers, authorization: `Bearer ${bindingValue("WEBHOOK_TOKEN")}` }, /^signature does not match$/);
  });

  it("accepts the good signature among others, space-separated, and examines at most 10", async () => {
    const headers = await signed({ id: "msg_many" });
    const junk = (n: number) => Array.from({ length: n }, (_, i) => `v1,${btoa(String.fromCharCode(i).repeat(32))}`);
    const good = headers["webhook-signature"]!;
    expect((await postTo("webhook", body, { ...headers, "webhook-signature": [...junk(9), good].join(" ") })).status).toBe(202);
    await expectRefused({ ...headers, "webhook-signature": [...junk(10), good].join(" ") }, /^signature does not match$/);
  });

  describe("secret rotation (WEBHOOK_SECRET holds old and new, comma-separated)", () => {
    const OLD = `whsec_${btoa("the old webhook signing key")}`;
    const NEW = `whsec_${btoa("the new webhook signing key")}`;
    const rotating = { WEBHOOK_SECRET: `${OLD}, ${NEW}` };

    it.each([
      ["old", OLD],
      ["new", NEW],
    ])("accepts a body signed with the %s secret alone", async (_, secret) => {
      const { status, queued } = await postWithEnv("webhook", body, await signed({}, body, [secret]), rotating);
      expect(status).toBe(202);
      expect(queued).toHaveLength(1);
    });

    it("accepts a sender's rotation header, one v1 per secret", async () => {
      const headers = await signed({}, body, [OLD, NEW]);
      expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
      expect((await postWithEnv("webhook", body, headers, rotating)).status).toBe(202);
    });

    it("refuses a secret that is no longer listed", async () => {
      await expectRefused(await signed(), /^signature does not match$/, body, rotating);
    });
  });

  it.each([undefined, "", "  "])("fails closed while both secrets are %j: nothing is accepted, signed or not", async (value) => {
    const off = { WEBHOOK_SECRET: value, WEBHOOK_TOKEN: value };
    for (const headers of [await signed(), { authorization: `Bearer ${bindingValue("WEBHOOK_TOKEN")}` }, {}]) {
      await expectRefused(headers, /WEBHOOK_SECRET nor WEBHOOK_TOKEN is set/, body, off);
    }
  });

  it("refuses a signed delivery while only WEBHOOK_TOKEN is set, and a bearer token while only WEBHOOK_SECRET is", async () => {
    await expectRefused(await signed(), /WEBHOOK_SECRET is not set/, body, { WEBHOOK_SECRET: "" });
    await expectRefused({ authorization: `Bearer ${bindingValue("WEBHOOK_TOKEN")}` }, /WEBHOOK_TOKEN is not set/, body, { WEBHOOK_TOKEN: "" });
  });

  it("answers 500 (senders retry until fixed) when WEBHOOK_SECRET is not whsec_ and base64", async () => {
    const { status, json, queued } = await postWithEnv("webhook", body, await signed(), { WEBHOOK_SECRET: "whsec_not base64!" });
    expect(status).toBe(500);
    expect(json.error).toMatch(/WEBHOOK_SECRET must be whsec_ followed by base64/);
    expect(queued).toEqual([]);
  });

  it("signs the bytes as sent: a signature over the text re-encoded differently does not match", async () => {
    const text = body.replace("packet loss", "pérte de paquets");
    expect(text).not.toBe(body);
    const latin1 = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    const headers = {
      ...(await signed({ id: "msg_bytes", timestamp: nowSeconds() })),
      "webhook-signature": await signStandardWebhook(latin1, "msg_bytes", nowSeconds(), SECRET),
    };
    expect((await postTo("webhook", text, headers)).status).toBe(401);
  });
});

describe.runIf(SOURCE_NAMES.includes("cloudflare"))("Cloudflare Notifications secret (cf-webhook-auth)", () => {
  const SECRET = bindingValue("CLOUDFLARE_NOTIFICATIONS_SECRET");
  const body = SOURCE_NAMES.includes("cloudflare") ? fixture("cloudflare", "dex-test-low-availability.start.json") : "";

  async function expectRefused(headers: Record<string, string>, message: RegExp, bindings: Record<string, unknown> = {}) {
    const { status, json, queued, reason } = await postWithEnv("cloudflare", body, headers, bindings);
    expect(status, JSON.stringify(headers)).toBe(401);
    expect(reason).toMatch(message);
    expect(reason).not.toContain(SECRET);
    expect(json).toEqual({ error: "unauthorized" });
    expect(queued).toEqual([]);
  }

  it("accepts the destination's secret", async () => {
    const { status, queued } = await postTo("cloudflare", body, { "cf-webhook-auth": SECRET });
    expect(status).toBe(202);
    expect(queued).toHaveLength(1);
  });

  it("answers the dashboard's test delivery 2xx and queues nothing", async () => {
    const { status, json, queued } = await postTo("cloudflare", fixture("cloudflare", "dashboard-test.json"), { "cf-webhook-auth": SECRET });
    expect(status).toBe(200);
    expect(json).toEqual({ status: "ignored", reason: "test delivery received" });
    expect(queued).toEqual([]);
  });

  it("refuses a secret cut short, padded, repeated or one character off", async () => {
    for (const wrong of [SECRET.slice(0, -1), SECRET.slice(1), `${SECRET}x`, `${SECRET}${SECRET}`, SECRET.replace(/.$/, "x"), "x"]) {
      await expectRefused({ "cf-webhook-auth": wrong }, /^invalid cf-webhook-auth secret$/);
    }
  });

  it("refuses the secret anywhere but cf-webhook-auth, and a missing header", async () => {
    await expectRefused({ authorization: `Bearer ${SECRET}` }, /^missing cf-webhook-auth header$/);
    await expectRefused({ "x-cf-webhook-auth": SECRET }, /^missing cf-webhook-auth header$/);
    await expectRefused({}, /^missing cf-webhook-auth header$/);
    await expectRefused({ "cf-webhook-auth": "" }, /^missing cf-webhook-auth header$/);
  });

  describe("rotation (a new destination with a new secret replaces the old one)", () => {
    const rotating = { CLOUDFLARE_NOTIFICATIONS_SECRET: "old-destination-secret,new-destination-secret" };

    it.each(["old-destination-secret", "new-destination-secret"])("accepts %s", async (secret) => {
      expect((await postWithEnv("cloudflare", body, { "cf-webhook-auth": secret }, rotating)).status).toBe(202);
    });

    it("refuses both secrets at once, and a secret no longer listed", async () => {
      await expectRefused({ "cf-webhook-auth": "old-destination-secret,new-destination-secret" }, /^invalid cf-webhook-auth secret$/, rotating);
      await expectRefused({ "cf-webhook-auth": SECRET }, /^invalid cf-webhook-auth secret$/, rotating);
    });
  });

  it.each([undefined, "", "  ", ","])("fails closed while CLOUDFLARE_NOTIFICATIONS_SECRET is %j, whatever the header says", async (value) => {
    for (const header of [SECRET, "", "undefined", ","]) {
      await expectRefused({ "cf-webhook-auth": header }, /CLOUDFLARE_NOTIFICATIONS_SECRET is not set/, { CLOUDFLARE_NOTIFICATIONS_SECRET: value });
    }
  });
});
