import { createExecutionContext, reset, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { RELAY } from "../helpers/relay";
import { signPagerDuty } from "../helpers/sign";
import { authOf, invalidAuthVariants, testSecrets, validAuthHeaders } from "../helpers/source-auth";
import { fixturesOf } from "../helpers/source-fixtures";

/**
 * Every refusal of credentials, for every source of the registry, is the same 401 with the
 * same body: whether credentials are missing, wrong, or cannot be right because the
 * source's secret is unset. A caller learns neither why nor which sources are enabled, and
 * the body never names a secret.
 */

const BODY = '{"error":"unauthorized"}';

let send: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  send = vi.spyOn(env.ALERT_QUEUE, "send");
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    throw new Error(`unexpected outbound request: ${input instanceof Request ? input.url : String(input)}`);
  });
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(async () => {
  expect(send).not.toHaveBeenCalled();
  expect(globalThis.fetch).not.toHaveBeenCalled();
  vi.restoreAllMocks();
  await reset();
});

/** The bindings a source's credentials come from: its secret, and Grafana's bearer token too. */
function bindingsOf(source: string): string[] {
  const auth = authOf(source);
  return auth.kind === "signature" && auth.alsoBearer ? [auth.binding, auth.alsoBearer] : [auth.binding];
}

function bodyOf(source: string): string {
  return fixturesOf(source).find((f) => f.contentType === "application/json")?.body ?? "{}";
}

async function expectTheOne401(response: Response, what: string) {
  const text = await response.text();
  expect(response.status, what).toBe(401);
  expect(text, what).toBe(BODY);
  expect(response.headers.get("content-type"), what).toMatch(/^application\/json/);
  expect(text, what).not.toMatch(/_TOKEN|_SECRET|signature|bearer/i);
  for (const secret of testSecrets()) expect(text, what).not.toContain(secret);
}

async function requestWithEnv(path: string, init: RequestInit, bindings: Record<string, unknown>) {
  const ctx = createExecutionContext();
  const response = await app.request(`${RELAY}${path}`, init, { ...env, ...bindings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe.each(SOURCE_NAMES)("POST /v1/alerts/%s", (source) => {
  const path = `/v1/alerts/${source}`;
  const body = bodyOf(source);
  const init = (headers: Record<string, string>): RequestInit => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("without credentials", async () => {
    await expectTheOne401(await exports.default.fetch(`${RELAY}${path}`, init({})), "no credentials");
  });

  it("with each kind of wrong credentials", async () => {
    for (const variant of await invalidAuthVariants(source, body)) {
      await expectTheOne401(await exports.default.fetch(`${RELAY}${path}`, init(variant.headers)), variant.name);
    }
  });

  it.each([[""], ["   "], [undefined]])("with valid-looking credentials while the source's secret is %j", async (unset) => {
    const valid = await validAuthHeaders(source, body);
    const bindings = Object.fromEntries(bindingsOf(source).map((name) => [name, unset]));
    for (const headers of [valid, {}]) {
      await expectTheOne401(
        await requestWithEnv(path, init(headers), bindings),
        `${JSON.stringify(Object.keys(headers))} with ${bindingsOf(source).join(", ")} unset`,
      );
    }
  });

  it("asking for a dry run without the operator's token, or with a wrong one", async () => {
    const valid = await validAuthHeaders(source, body);
    for (const extra of [{} as Record<string, string>, { "x-relay-admin-token": "not-the-admin-token" }]) {
      await expectTheOne401(await exports.default.fetch(`${RELAY}${path}?dry_run=true`, init({ ...valid, ...extra })), JSON.stringify(extra));
    }
  });
});

describe("the operators' endpoints", () => {
  it.each(["/v1/deliveries/00000000-0000-4000-8000-000000000000", "/v1/commands/00000000-0000-4000-8000-000000000000/download"])(
    "GET %s refuses missing, wrong and unset credentials with the same 401",
    async (path) => {
      for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong" }, { authorization: `Bearer ${env.ZAPIER_TOKEN}` }]) {
        await expectTheOne401(await exports.default.fetch(`${RELAY}${path}`, { headers }), JSON.stringify(headers));
      }
      await expectTheOne401(await requestWithEnv(path, { headers: { authorization: "Bearer admin-test-token" } }, { ADMIN_TOKEN: "" }), "ADMIN_TOKEN unset");
    },
  );
});

describe("the PagerDuty action", () => {
  const path = "/v1/actions/pagerduty?rule=warp-diag-on-demand&user_email=jane.doe%40example.com";
  const body = JSON.stringify({ incident_id: "Q1", requested_by: "Priya Raman" });
  const init = (headers: Record<string, string>): RequestInit => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("refuses missing, wrong and unset credentials with the same 401, and a signature made with another secret", async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      { "x-pagerduty-signature": await signPagerDuty(body, "wrong") },
      // The alerts webhook's signing secret is not the action's.
      { "x-pagerduty-signature": await signPagerDuty(body, env.PAGERDUTY_WEBHOOK_SECRET) },
    ];
    for (const headers of variants) await expectTheOne401(await exports.default.fetch(`${RELAY}${path}`, init(headers)), JSON.stringify(Object.keys(headers)));
    const valid = { authorization: `Bearer ${env.PAGERDUTY_ACTION_SECRET}` };
    await expectTheOne401(await requestWithEnv(path, init(valid), { PAGERDUTY_ACTION_SECRET: "" }), "PAGERDUTY_ACTION_SECRET unset");
  });
});
