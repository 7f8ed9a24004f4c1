import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { secretsEqual } from "../../src/crypto/compare";
import { hmacSha256Hex, verifyHmacSha256Hex } from "../../src/crypto/hmac";
import { verifyBearer } from "../../src/sources/bearer";
import { verifyPagerDutySignature } from "../../src/sources/pagerduty/signature";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { RELAY } from "../helpers/relay";
import { authOf, invalidAuthVariants, validAuthHeaders } from "../helpers/source-auth";
import { fixturesOf } from "../helpers/source-fixtures";

/**
 * Every credential check goes through WebCrypto's constant-time primitives:
 * `crypto.subtle.timingSafeEqual` for tokens (over SHA-256 digests, so lengths never
 * differ), `crypto.subtle.verify` for HMACs. No timing is measured: the tests assert which
 * primitive decided, and that no HMAC is computed only to be compared as a string.
 */

let timingSafeEqual: MockInstance<SubtleCrypto["timingSafeEqual"]>;
let verify: MockInstance<SubtleCrypto["verify"]>;
let sign: MockInstance<SubtleCrypto["sign"]>;

beforeEach(() => {
  timingSafeEqual = vi.spyOn(crypto.subtle, "timingSafeEqual");
  verify = vi.spyOn(crypto.subtle, "verify");
  sign = vi.spyOn(crypto.subtle, "sign");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const headersOf = (init: Record<string, string>) => new Headers(init);
const byteLengths = (calls: unknown[][]) => calls.map((args) => args.map((a) => (a as ArrayBuffer).byteLength));

describe("token comparison (secretsEqual, verifyBearer)", () => {
  it.each([
    ["equal", "zapier-test-token", "zapier-test-token", true],
    ["one character off", "zapier-test-tokeN", "zapier-test-token", false],
    ["shorter", "z", "zapier-test-token", false],
    ["much longer", "z".repeat(10_000), "zapier-test-token", false],
    ["empty", "", "zapier-test-token", false],
  ])("compares %s tokens with timingSafeEqual over two 32-byte digests", async (_, given, expected, equal) => {
    expect(await secretsEqual(given, expected)).toBe(equal);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    expect(byteLengths(timingSafeEqual.mock.calls)).toEqual([[32, 32]]);
  });

  it("decides a bearer token with timingSafeEqual, right or wrong, whatever its length", async () => {
    for (const token of ["zapier-test-token", "zapier-test-tokem", "zap", "zapier-test-token-and-more"]) {
      timingSafeEqual.mockClear();
      const outcome = await verifyBearer(headersOf({ authorization: `Bearer ${token}` }), env, "ZAPIER_TOKEN").then(
        () => "accepted",
        () => "refused",
      );
      expect(outcome).toBe(token === "zapier-test-token" ? "accepted" : "refused");
      expect(timingSafeEqual, token).toHaveBeenCalledTimes(1);
      expect(byteLengths(timingSafeEqual.mock.calls)).toEqual([[32, 32]]);
    }
  });
});

describe("HMAC comparison (verifyHmacSha256Hex, PagerDuty)", () => {
  const body = '{"event":{"id":"1"}}';

  it("decides a well-formed signature with crypto.subtle.verify, never by computing and comparing", async () => {
    const good = await hmacSha256Hex("pd-secret-current", body);
    sign.mockClear();
    for (const [signature, expected] of [
      [good, true],
      [good.replace(/.$/, (c) => (c === "0" ? "1" : "0")), false],
      [good.toUpperCase(), true],
    ] as const) {
      verify.mockClear();
      expect(await verifyHmacSha256Hex("pd-secret-current", body, signature)).toBe(expected);
      expect(verify).toHaveBeenCalledTimes(1);
      expect(verify.mock.calls[0]![0]).toBe("HMAC");
    }
    expect(sign).not.toHaveBeenCalled();
  });

  it("checks each v1 signature of a PagerDuty header against each secret with crypto.subtle.verify", async () => {
    const header = `v1=${"0".repeat(64)},v1=${"1".repeat(64)}`;
    await expect(verifyPagerDutySignature(body, header, ["old", "new"])).rejects.toThrow("signature does not match");
    expect(verify).toHaveBeenCalledTimes(4);
    expect(sign).not.toHaveBeenCalled();
  });
});

describe.each(SOURCE_NAMES)("%s over HTTP", (source) => {
  const fixture = fixturesOf(source).find((f) => f.contentType === "application/json");
  const body = fixture?.body ?? "{}";
  const kind = authOf(source).kind;
  // A token or a shared secret is compared; a signature is verified.
  const compared = kind === "bearer" || kind === "shared-secret";
  const primitive = compared ? "timingSafeEqual" : "verify";

  beforeEach(() => {
    vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
  });

  async function postWith(headers: Record<string, string>) {
    // Building the credentials signs too: only what the relay does counts.
    for (const spy of [timingSafeEqual, verify, sign]) spy.mockClear();
    const response = await exports.default.fetch(`${RELAY}/v1/alerts/${source}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  }

  it(`decides valid credentials with crypto.subtle.${primitive}`, async () => {
    expect(await postWith(await validAuthHeaders(source, body))).toBeLessThan(300);
    expect(compared ? timingSafeEqual : verify).toHaveBeenCalled();
    expect(sign).not.toHaveBeenCalled();
  });

  it(`refuses a credential one character off through crypto.subtle.${primitive}, not a string comparison`, async () => {
    const variants = await invalidAuthVariants(source, body);
    const nearMiss = variants.find((v) => v.name === "one character changed" || v.name === "one hex digit changed")!;
    expect(await postWith(nearMiss.headers)).toBe(401);
    expect(compared ? timingSafeEqual : verify).toHaveBeenCalled();
    expect(sign).not.toHaveBeenCalled();
  });
});
