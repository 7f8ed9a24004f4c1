import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { forgetAccessKeys } from "../../src/admin/access-jwt";
import { app } from "../../src/app";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { accessToken, AUDIENCE, CERTS_URL, certsOf, signingKey, TEAM_DOMAIN } from "../helpers/access";
import { JANE, mockDexApi, OLD_CLIENT } from "../helpers/dex-api-mock";
import { currentDelivery } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, post, RELAY, runConsumer } from "../helpers/relay";

const ADMIN = { authorization: "Bearer admin-test-token" };

function capture(body: unknown, headers: Record<string, string> = ADMIN) {
  return post("/v1/captures", { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Posts the console's capture form as a browser on the relay's own page would; keeps what it queues. */
async function postForm(fields: Record<string, string>, headers: Record<string, string> = { ...ADMIN, origin: RELAY }) {
  const queued: DeliveryMessage[] = [];
  vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    queued.push(body as DeliveryMessage);
    return {} as QueueSendResponse;
  });
  const res = await exports.default.fetch(`${RELAY}/console/captures`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, location: res.headers.get("location"), html: await res.text(), queued };
}

async function consolePage(path: string) {
  return (await exports.default.fetch(`${RELAY}${path}`, { headers: ADMIN })).text();
}

isolateEachTest();

describe("POST /v1/captures", () => {
  it("creates one command on the device the directory vouches for, recorded as asked for by the operator", async () => {
    const api = mockDexApi();
    const { status, json, queued } = await capture({ rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail } });
    expect(status).toBe(202);
    expect(json).toEqual({ status: "queued", delivery_id: expect.any(String), rule: "warp-diag-on-demand", requested_by: "admin token" });
    expect(queued).toHaveLength(1);
    await runConsumer(queued);

    expect(api.callsTo("devices")).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.commands).toEqual([expect.objectContaining({ type: "warp-diag", device_id: JANE.deviceId, registration_id: JANE.registrationId })]);
    const delivery = await currentDelivery(json.delivery_id);
    expect(delivery).toMatchObject({
      source: "operator",
      state: "done",
      alerts: [
        { status: "requested", request: { rule: "warp-diag-on-demand", requested_by: "admin token", via: "api", target: { user_email: JANE.personEmail } } },
      ],
      decisions: [{ outcome: "created", rule: "warp-diag-on-demand", type: "warp-diag", device_id: JANE.deviceId, command_id: api.commands[0]!.id }],
    });
    const listed = await (await exports.default.fetch(`${RELAY}/v1/commands`, { headers: ADMIN })).json<{ commands: Array<Record<string, unknown>> }>();
    expect(listed.commands).toEqual([
      expect.objectContaining({ rule: "warp-diag-on-demand", source: "operator", requested_by: "admin token", delivery_id: json.delivery_id }),
    ]);
  });

  it("refuses a device the directory does not vouch for, and sends nothing", async () => {
    const api = mockDexApi();
    for (const target of [
      { user_email: "nobody@example.com" },
      { device_id: "6f1c2d4e-9999-4a7b-9c1d-000000000009", user_email: JANE.personEmail },
      { user_email: OLD_CLIENT.personEmail },
    ]) {
      const { status, json, queued } = await capture({ rule: "warp-diag-on-demand", target });
      expect(status).toBe(202);
      await runConsumer(queued);
      const record = await deliveryRecord(json.delivery_id);
      expect(record?.decisions).toEqual([
        expect.objectContaining({
          outcome: target.user_email === OLD_CLIENT.personEmail ? "device-ineligible" : "device-not-found",
          reason: expect.any(String),
        }),
      ]);
    }
    expect(api.callsTo("create")).toHaveLength(0);
  });

  it("holds the rule's cooldown: a second request for the same device within it is refused as cooldown", async () => {
    const api = mockDexApi();
    const first = await capture({ rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail } });
    await runConsumer(first.queued);
    const second = await capture({ rule: "warp-diag-on-demand", target: { hostname: "jane-mbp" } });
    await runConsumer(second.queued);
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await deliveryRecord(second.json.delivery_id))?.decisions).toEqual([
      expect.objectContaining({ outcome: "cooldown", device_id: JANE.deviceId, reason: expect.stringContaining("warp-diag") }),
    ]);
  });

  it("makes a retried request with the same Idempotency-Key create nothing new", async () => {
    const api = mockDexApi();
    for (let i = 0; i < 2; i++) {
      const { queued } = await capture({ rule: "pcap-on-demand", target: { user_email: JANE.personEmail } }, { ...ADMIN, "idempotency-key": "script-run-7" });
      await runConsumer(queued);
    }
    expect(api.callsTo("create")).toHaveLength(1);
  });

  it("answers 400 naming the field, and queues nothing, for a rule that does not allow it or a target that is not one", async () => {
    mockDexApi();
    const cases: Array<[unknown, RegExp]> = [
      [{ rule: "warp-diag-on-critical", target: { user_email: JANE.personEmail } }, /^rule: warp-diag-on-critical does not allow captures on demand/],
      [{ rule: "nope", target: { user_email: JANE.personEmail } }, /^rule: no rule in RULES/],
      [{ rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail, hostname: "JANE-MBP" } }, /^target: a target is/],
      [{ rule: "warp-diag-on-demand" }, /^target: name the device/],
      [{ rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail }, incident_id: "Q1/../x" }, /^incident_id: /],
      [{ target: { user_email: JANE.personEmail } }, /^rule: /],
    ];
    for (const [body, error] of cases) {
      const { status, json, queued } = await capture(body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toMatch(error);
      expect(queued).toEqual([]);
    }
  });

  it("refuses without the operator's credentials, or from another site, and queues nothing", async () => {
    mockDexApi();
    const body = { rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail } };
    const refused: Record<string, string>[] = [{}, { authorization: "Bearer zapier-test-token" }, { ...ADMIN, origin: "https://evil.example" }];
    for (const headers of refused) {
      const { status, json, queued } = await capture(body, headers);
      expect(status).toBe(401);
      expect(json).toEqual({ error: "unauthorized" });
      expect(queued).toEqual([]);
    }
  });

  it("names an operator signed in with Cloudflare Access by their email", async () => {
    forgetAccessKeys();
    const key = await signingKey();
    const certs = await certsOf(key);
    mockDexApi(undefined, { [`GET ${CERTS_URL}`]: () => Response.json(certs) });
    const queued: DeliveryMessage[] = [];
    vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
      queued.push(body as DeliveryMessage);
      return {} as QueueSendResponse;
    });
    const res = await app.request(
      `${RELAY}/v1/captures`,
      {
        method: "POST",
        headers: { "cf-access-jwt-assertion": await accessToken(key, { email: "priya.raman@example.com" }), origin: RELAY, "content-type": "application/json" },
        body: JSON.stringify({ rule: "warp-diag-on-demand", target: { user_email: JANE.personEmail } }),
      },
      { ...env, ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE } as Env,
      createExecutionContext(),
    );
    expect(res.status).toBe(202);
    expect(queued[0]!.alerts[0]!.request).toEqual({ rule: "warp-diag-on-demand", requested_by: "priya.raman@example.com", via: "api" });
  });
});

describe("the console's capture form", () => {
  it("offers the rules that allow captures on demand", async () => {
    mockDexApi();
    const html = await consolePage("/console");
    expect(html).toContain('id="capture"');
    expect(html).toContain('<option value="warp-diag-on-demand" >warp-diag-on-demand</option><option value="pcap-on-demand" >pcap-on-demand</option>');
    expect(html).not.toContain('<option value="warp-diag-on-critical"');
  });

  it("queues the request, then shows its delivery, asked for by the operator, once the consumer has run", async () => {
    const api = mockDexApi();
    const { status, location, queued } = await postForm({
      rule: "pcap-on-demand",
      user_email: JANE.personEmail!,
      hostname: "",
      device_id: "",
      incident_id: "",
    });
    expect(status).toBe(303);
    const deliveryId = queued[0]!.delivery_id;
    expect(location).toBe(`/console?source=operator&live=1&requested=${deliveryId}#deliveries`);
    await runConsumer(queued);
    expect(api.callsTo("create")).toHaveLength(1);

    const html = await consolePage(location!);
    expect(html).toContain(`Capture asked for as delivery ${deliveryId};`);
    expect(html).toContain('http-equiv="refresh"');
    expect(html).toContain('<option value="operator" selected>operator</option>');
    expect(html).toContain(deliveryId);
    expect(html).toContain("asked for by admin token (console)");
    expect(html).toMatch(/pcap-on-demand<br><span class="muted">asked for by admin token<\/span>/);
  });

  it("shows a refusal in the form, keeps what was typed, and queues nothing", async () => {
    mockDexApi();
    const { status, html, queued } = await postForm({
      rule: "pcap-on-demand",
      user_email: "",
      hostname: "<b>JANE</b>",
      device_id: "6f1c2d4e",
      incident_id: "",
    });
    expect(status).toBe(200);
    expect(html).toMatch(/id="capture-error">target: /);
    expect(html).toContain('value="&lt;b&gt;JANE&lt;/b&gt;"');
    expect(queued).toEqual([]);
  });

  it("refuses a form posted from another site", async () => {
    mockDexApi();
    const { status, queued } = await postForm({ rule: "pcap-on-demand", user_email: JANE.personEmail! }, { ...ADMIN, origin: "https://evil.example" });
    expect(status).toBe(401);
    expect(queued).toEqual([]);
  });
});
