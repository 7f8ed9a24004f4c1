import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ACCESS_CLOCK_LEEWAY_SECONDS, forgetAccessKeys } from "../../src/admin/access-jwt";
import { app } from "../../src/app";
import { accessToken, AUDIENCE, CERTS_URL, certsOf, signingKey, TEAM_DOMAIN, type SigningKey } from "../helpers/access";
import { mockDexApi } from "../helpers/dex-api-mock";
import { isolateEachTest, RELAY } from "../helpers/relay";

const WITH_ACCESS = { ...env, ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE } as Env;
const OPERATOR_ROUTES: Array<[string, string]> = [
  ["GET", "/console"],
  ["GET", "/v1/deliveries"],
  ["GET", "/v1/deliveries/7d0c5a3e-1f2b-4c3d-9e8f-0a1b2c3d4e5f"],
  ["GET", "/v1/commands"],
  ["GET", "/v1/dead-letters"],
  ["POST", "/v1/dead-letters/9999999999999-abc/replay"],
  ["POST", "/v1/rules/test"],
  ["POST", "/console/rules/test"],
  ["POST", "/console/dead-letters/9999999999999-abc/replay"],
  ["POST", "/v1/captures"],
  ["POST", "/console/captures"],
  ["POST", `/v1/approvals/${"a".repeat(64)}/approve`],
  ["POST", `/console/approvals/${"a".repeat(64)}/deny`],
];

let key: SigningKey;
let stranger: SigningKey;

function request(path: string, init: RequestInit = {}, bindings: Env = WITH_ACCESS) {
  return app.request(`${RELAY}${path}`, init, bindings, createExecutionContext());
}

/** The team publishes `key`; every test counts the requests for its certs. */
function mockTeam() {
  return mockDexApi(undefined, { [`GET ${CERTS_URL}`]: () => Response.json(certsPublished) });
}
let certsPublished: Record<string, unknown>;

isolateEachTest();

beforeAll(async () => {
  key = await signingKey("key-1");
  // Another key under the same kid: a forgery that names a real key.
  stranger = await signingKey("key-1");
});

beforeEach(async () => {
  forgetAccessKeys();
  certsPublished = await certsOf(key);
});

describe("operator auth: Cloudflare Access", () => {
  it("accepts a valid token in the Cf-Access-Jwt-Assertion header, and in the CF_Authorization cookie", async () => {
    mockTeam();
    const token = await accessToken(key);
    expect((await request("/v1/commands", { headers: { "cf-access-jwt-assertion": token } })).status).toBe(200);
    expect((await request("/v1/commands", { headers: { cookie: `CF_Authorization=${token}` } })).status).toBe(200);
  });

  it("reads the team's keys once and keeps them", async () => {
    const api = mockTeam();
    const token = await accessToken(key);
    for (let i = 0; i < 3; i++) await request("/v1/commands", { headers: { "cf-access-jwt-assertion": token } });
    expect(api.otherCalls.map((r) => r.url)).toEqual([CERTS_URL]);
  });

  it("reads the keys again for a kid it does not know (a rotation), and then accepts the new key", async () => {
    const api = mockTeam();
    await request("/v1/commands", { headers: { "cf-access-jwt-assertion": await accessToken(key) } });
    const rotated = await signingKey("key-2");
    certsPublished = await certsOf(key, rotated);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 60_000 });
    const res = await request("/v1/commands", { headers: { "cf-access-jwt-assertion": await accessToken(rotated) } });
    expect(res.status).toBe(200);
    expect(api.otherCalls).toHaveLength(2);
  });

  const refusals: Array<[string, () => Promise<string>]> = [
    ["forged: signed by another key under a published kid", () => accessToken(stranger)],
    ["a kid the team does not publish", async () => accessToken(await signingKey("key-9"))],
    ["the wrong audience", () => accessToken(key, { aud: ["another-app"] })],
    ["the wrong issuer", () => accessToken(key, { iss: "https://evil.cloudflareaccess.com" })],
    ["expired beyond the leeway", () => accessToken(key, { exp: Math.floor(Date.now() / 1000) - ACCESS_CLOCK_LEEWAY_SECONDS - 5 })],
    ["not valid yet", () => accessToken(key, { nbf: Math.floor(Date.now() / 1000) + ACCESS_CLOCK_LEEWAY_SECONDS + 60 })],
    ["alg none", async () => `${(await accessToken(key, {}, { alg: "none" })).split(".").slice(0, 2).join(".")}.`],
    ["HS256 with the public key as secret", () => accessToken(key, {}, { alg: "HS256" })],
    [
      "a tampered payload",
      async () => {
        const [h, , s] = (await accessToken(key)).split(".");
        const claims = btoa(JSON.stringify({ aud: [AUDIENCE], iss: TEAM_DOMAIN, exp: 9999999999, email: "ceo@example.com" })).replace(/=+$/, "");
        return `${h}.${claims}.${s}`;
      },
    ],
    ["not a JWT", async () => "garbage"],
  ];
  for (const [name, token] of refusals) {
    it(`refuses ${name}, with the one refusal message`, async () => {
      mockTeam();
      const res = await request("/v1/commands", { headers: { "cf-access-jwt-assertion": await token() } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized" });
    });
  }

  it("accepts a token just past exp within the leeway", async () => {
    mockTeam();
    const token = await accessToken(key, { exp: Math.floor(Date.now() / 1000) - ACCESS_CLOCK_LEEWAY_SECONDS + 10 });
    expect((await request("/v1/commands", { headers: { "cf-access-jwt-assertion": token } })).status).toBe(200);
  });

  it("refuses when the team's keys cannot be read, and logs why without the token", async () => {
    mockDexApi(undefined, { [`GET ${CERTS_URL}`]: () => new Response("down", { status: 502 }) });
    const problems = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const token = await accessToken(key);
    const res = await request("/v1/commands", { headers: { "cf-access-jwt-assertion": token } });
    expect(res.status).toBe(401);
    const logged = problems.mock.calls.flat().join("\n");
    expect(logged).toContain("keys answered 502");
    expect(logged).not.toContain(token.split(".")[2]);
  });

  it("ignores Access tokens while Access is not configured", async () => {
    mockTeam();
    const res = await request("/v1/commands", { headers: { "cf-access-jwt-assertion": await accessToken(key) } }, env);
    expect(res.status).toBe(401);
  });
});

describe("operator auth: every operator route", () => {
  it("refuses a request with no credentials on every route", async () => {
    mockTeam();
    for (const [method, path] of OPERATOR_ROUTES) {
      const res = await request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized" });
    }
  });

  it("refuses every route, the admin token included, when neither ADMIN_TOKEN nor Access is configured (fail closed)", async () => {
    mockTeam();
    const off = { ...env, ADMIN_TOKEN: "" } as Env;
    for (const [method, path] of OPERATOR_ROUTES) {
      const res = await request(path, { method, headers: { authorization: "Bearer admin-test-token" } }, off);
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("accepts the admin token for scripts, and refuses a wrong one or a source's token", async () => {
    mockTeam();
    expect((await request("/v1/commands", { headers: { authorization: "Bearer admin-test-token" } })).status).toBe(200);
    for (const authorization of ["Bearer nope", "Bearer zapier-test-token", "Basic YWRtaW46YWRtaW4="]) {
      expect((await request("/v1/commands", { headers: { authorization } })).status).toBe(401);
    }
  });

  it("refuses a console form posted from another site, even with a valid Access cookie", async () => {
    mockTeam();
    const cookie = `CF_Authorization=${await accessToken(key)}`;
    const form = { source: "zapier", payload: "{}" };
    const post = (headers: Record<string, string>) =>
      request("/console/rules/test", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(form),
      });
    expect((await post({ origin: "https://evil.example" })).status).toBe(401);
    expect((await post({ "sec-fetch-site": "cross-site" })).status).toBe(401);
    // A cookie alone, with neither header, could be a forged request from an old browser.
    expect((await post({})).status).toBe(401);
    expect((await post({ origin: RELAY })).status).toBe(200);
    expect((await post({ "sec-fetch-site": "same-origin" })).status).toBe(200);
  });

  it("opens the console from a link on another site (a GET changes nothing)", async () => {
    mockTeam();
    const res = await request("/console", { headers: { cookie: `CF_Authorization=${await accessToken(key)}`, "sec-fetch-site": "cross-site" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("oncall@example.com");
  });
});
