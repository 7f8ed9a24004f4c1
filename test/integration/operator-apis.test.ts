import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, runLedgerAlarm } from "../helpers/ledger";
import { isolateEachTest, postZapier, RELAY, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/** Not about approval: the shipped rules with every command sent at once (approval has ./approvals.test.ts). */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

const ADMIN = { authorization: "Bearer admin-test-token" };

async function get(path: string, bindings?: Partial<Env>) {
  const res = bindings
    ? await app.request(`${RELAY}${path}`, { headers: ADMIN }, { ...env, ...bindings }, createExecutionContext())
    : await exports.default.fetch(`${RELAY}${path}`, { headers: ADMIN });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/**
 * Three deliveries a second apart: Jane (two commands), Sam (one), and one that matches no
 * rule. `since` keeps lists to them: another file's message that the local queue brings back
 * late may land in the shared storage meanwhile.
 */
async function seed() {
  const since = new Date().toISOString();
  const api = mockDexApi();
  const ids: string[] = [];
  for (const fields of [
    { id: "ops-1", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail },
    { id: "ops-2", severity: "critical", title: "Calls freezing", user_email: SAM.personEmail },
    { id: "ops-3", severity: "info", title: "Printer offline", user_email: SAM.personEmail },
  ]) {
    advanceClock(1_000);
    const { json, queued } = await postZapier(fields);
    await runConsumer(queued);
    ids.push(json.delivery_id);
  }
  return { api, ids, since: encodeURIComponent(since) };
}

isolateEachTest();

describe("GET /v1/deliveries", () => {
  it("lists deliveries newest first, each with its decisions brought up to date from the ledger", async () => {
    const { ids, since } = await seed();
    const { status, json } = await get(`/v1/deliveries?since=${since}`);
    expect(status).toBe(200);
    expect(json.deliveries.map((d: any) => d.delivery_id)).toEqual([...ids].reverse());
    expect(json.cursor).toBeNull();
    expect(json.deliveries[2]).toMatchObject({ source: "zapier", state: "done", received_at: expect.any(String) });
    expect(json.deliveries[2].decisions.map((d: any) => d.outcome)).toEqual(["created", "created"]);
    expect(json.deliveries[0].decisions).toEqual([expect.objectContaining({ outcome: "no-rule" })]);
  });

  it("filters by source, outcome, device and since, and pages with a cursor", async () => {
    const { ids, since } = await seed();
    expect((await get(`/v1/deliveries?outcome=created&since=${since}`)).json.deliveries.map((d: any) => d.delivery_id)).toEqual([ids[1], ids[0]]);
    expect((await get(`/v1/deliveries?device=${JANE.deviceId}&since=${since}`)).json.deliveries.map((d: any) => d.delivery_id)).toEqual([ids[0]]);
    // A name the ledger knows stands for its device id.
    expect((await get(`/v1/deliveries?device=jane-mbp&since=${since}`)).json.deliveries.map((d: any) => d.delivery_id)).toEqual([ids[0]]);
    expect((await get(`/v1/deliveries?device=NOBODY-PC&since=${since}`)).json.deliveries).toEqual([]);
    expect((await get(`/v1/deliveries?source=pagerduty&since=${since}`)).json.deliveries).toEqual([]);
    expect((await get("/v1/deliveries?since=1s")).json.deliveries.map((d: any) => d.delivery_id)).toEqual([ids[2], ids[1]]);

    const first = await get(`/v1/deliveries?limit=2&since=${since}`);
    expect(first.json.deliveries).toHaveLength(2);
    expect(first.json.cursor).toEqual(expect.any(String));
    const second = await get(`/v1/deliveries?limit=2&since=${since}&cursor=${encodeURIComponent(first.json.cursor)}`);
    expect(second.json.deliveries.map((d: any) => d.delivery_id)).toEqual([ids[0]]);
  });

  it("shows a delivery whose command the ledger created after the record was written under outcome=created", async () => {
    const since = encodeURIComponent(new Date().toISOString());
    const api = mockDexApi();
    api.failNext("create", "network");
    const { json, queued } = await postZapier({ id: "ops-late", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
    await runConsumer(queued);
    expect((await get(`/v1/deliveries?outcome=created&since=${since}`)).json.deliveries).toEqual([]);
    await runLedgerAlarm();
    const listed = await get(`/v1/deliveries?outcome=created&since=${since}`);
    expect(listed.json.deliveries.map((d: any) => [d.delivery_id, d.state])).toEqual([[json.delivery_id, "done"]]);
  });

  it("names the parameter that is wrong", async () => {
    mockDexApi();
    expect(await get("/v1/deliveries?outcome=exploded")).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^query\.outcome: /) } });
    expect(await get("/v1/deliveries?since=yesterday")).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^query\.since: /) } });
    expect(await get("/v1/deliveries?limit=1000")).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^query\.limit: /) } });
  });

  it("answers only the error, never the query it was given back, and refuses a parameter given twice", async () => {
    mockDexApi();
    const refused = await get("/v1/commands?device=jane-secret-laptop&since=yesterday");
    expect(refused).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^query\.since: /) } });
    expect(Object.keys(refused.json)).toEqual(["error"]);
    expect(JSON.stringify(refused.json)).not.toMatch(/jane-secret-laptop|yesterday/);
    expect(await get("/v1/dead-letters?limit=5&limit=6")).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^query\.limit: /) } });
  });
});

describe("GET /v1/commands", () => {
  it("lists the ledger's commands newest first with DEX status, device name, rule and a download link once there is a file", async () => {
    const { api } = await seed();
    api.settle(api.commands[0]!.id, "SUCCESS", "pcap-1.zip");
    await runLedgerAlarm();
    const { status, json } = await get("/v1/commands");
    expect(status).toBe(200);
    // Sam's alert is not about packet loss: a warp-diag only. Commands taken together may come in any order.
    expect(json.commands.map((c: any) => c.device_name)).toEqual(["SAM-XPS13", "JANE-MBP", "JANE-MBP"]);
    expect(
      json.commands
        .slice(1)
        .map((c: any) => c.rule)
        .sort(),
    ).toEqual(["vpn-packet-loss-pcap", "warp-diag-on-critical"]);
    const pcap = json.commands.find((c: any) => c.command_id === api.commands[0]!.id);
    expect(pcap).toMatchObject({
      status: "SUCCESS",
      filename: "pcap-1.zip",
      outcome: "created",
      download_url: `${RELAY}/v1/commands/${api.commands[0]!.id}/download`,
    });
    expect(json.commands.filter((c: any) => c.download_url)).toHaveLength(1);
  });

  it("filters by DEX status or the ledger's outcome, by device id or name, and uses RELAY_PUBLIC_URL for links", async () => {
    const { api } = await seed();
    api.settle(api.commands[0]!.id, "SUCCESS", "pcap-1.zip");
    await runLedgerAlarm();
    expect((await get("/v1/commands?status=SUCCESS")).json.commands.map((c: any) => c.command_id)).toEqual([api.commands[0]!.id]);
    expect((await get("/v1/commands?status=created")).json.commands).toHaveLength(3);
    expect((await get("/v1/commands?device=jane-mbp")).json.commands).toHaveLength(2);
    expect((await get(`/v1/commands?device=${SAM.deviceId}`)).json.commands).toHaveLength(1);
    const linked = await get("/v1/commands?status=SUCCESS", { RELAY_PUBLIC_URL: "https://relay.example.com/" });
    expect(linked.json.commands[0].download_url).toBe(`https://relay.example.com/v1/commands/${api.commands[0]!.id}/download`);
  });

  it("pages with a cursor, never repeating a command", async () => {
    await seed();
    const first = await get("/v1/commands?limit=2");
    const second = await get(`/v1/commands?limit=2&cursor=${first.json.cursor}`);
    expect(first.json.commands).toHaveLength(2);
    expect(second.json.commands).toHaveLength(1);
    expect(second.json.cursor).toBeNull();
    const all = [...first.json.commands, ...second.json.commands].map((c: any) => c.key);
    expect(new Set(all).size).toBe(3);
  });
});

describe("POST /v1/rules/test", () => {
  async function test(body: unknown) {
    const res = await exports.default.fetch(`${RELAY}/v1/rules/test`, {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  }

  it("gives the decisions the relay would take, and for each rule that did not match, the condition that failed", async () => {
    const api = mockDexApi();
    const { status, json } = await test({ source: "zapier", payload: { id: "T-1", title: "Calls freezing", severity: "error", user_email: JANE.personEmail } });
    expect(status).toBe(200);
    expect(json.alerts[0].rules).toEqual([
      {
        rule: "vpn-packet-loss-pcap",
        matched: false,
        failed: { condition: "title", expected: expect.stringContaining("packet loss"), actual: "Calls freezing" },
      },
      { rule: "warp-diag-on-critical", matched: false, failed: { condition: "severity", expected: "one of critical", actual: "error" } },
      { rule: "bandwidth-speed-test", matched: false, failed: { condition: "label", label: "check", expected: "= bandwidth", actual: null } },
      { rule: "dex-alert-probe-warp-diag", matched: false, failed: expect.objectContaining({ condition: "source" }) },
      // Rules asked for on demand only: no alert matches them.
      { rule: "warp-diag-on-demand", matched: false, failed: expect.objectContaining({ condition: "source", expected: "one of operator" }) },
      { rule: "pcap-on-demand", matched: false, failed: expect.objectContaining({ condition: "source", expected: "one of operator" }) },
    ]);
    expect(json.decisions).toEqual([expect.objectContaining({ outcome: "no-rule" })]);
    expect(api.calls).toHaveLength(0);
  });

  it("plans a match as a dry run: devices looked up, nothing created, queued or recorded", async () => {
    const api = mockDexApi();
    const { json } = await test({ source: "zapier", payload: { id: "T-2", title: "VPN packet loss", severity: "critical", user_email: JANE.personEmail } });
    expect(json.alerts[0].rules.map((r: any) => r.matched)).toEqual([true, true, false, false, false, false]);
    expect(json.decisions.map((d: any) => [d.rule, d.outcome, d.device_id])).toEqual([
      ["vpn-packet-loss-pcap", "would-create", JANE.deviceId],
      ["warp-diag-on-critical", "would-create", JANE.deviceId],
    ]);
    expect(api.callsTo("create")).toHaveLength(0);
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });

  it("tries rules given in the request instead of RULES, and reports a bad one with its path", async () => {
    mockDexApi();
    const rules = [{ name: "bandwidth", match: { labels: { check: "/band/" } }, command: { type: "speed-test" } }];
    const { json } = await test({ source: "zapier", payload: "id=T-3&title=Slow&check=bandwidth&hostname=nowhere", rules });
    expect(json.alerts[0].rules).toEqual([{ rule: "bandwidth", matched: true }]);
    expect(json.decisions).toEqual([expect.objectContaining({ rule: "bandwidth", outcome: "device-not-found" })]);
    const bad = await test({ source: "zapier", payload: {}, rules: [{ name: "x", command: { type: "traceroute" } }] });
    expect(bad).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^RULES\[0\]\.command\.type: /) } });
  });

  it("refuses an unknown source and a payload the source would refuse", async () => {
    mockDexApi();
    expect(await test({ source: "nagios", payload: {} })).toMatchObject({ status: 400, json: { error: expect.stringContaining("unknown") } });
    expect((await test({ source: "pagerduty", payload: { event: 1 } })).status).toBe(400);
    expect((await test({ payload: {} })).status).toBe(400);
  });
});

describe("GET /healthz", () => {
  async function health(bindings: Partial<Env> = {}) {
    const res = await app.request(`${RELAY}/healthz`, {}, { ...env, ...bindings }, createExecutionContext());
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  }

  it("answers 200 with what is on when the configuration is sound, without auth and without a secret", async () => {
    const { status, json } = await health();
    expect(status).toBe(200);
    expect(json).toMatchObject({
      status: "ok",
      rules: 6,
      operator: { admin_token: true, access: false },
      pagerduty_enrichment: false,
      on_demand: { rules: 2, pagerduty_action: true },
    });
    expect(json.sources).toEqual({ alertmanager: true, cloudflare: true, datadog: true, grafana: true, pagerduty: true, webhook: true, zapier: true });
    // The test configuration leaves every report channel off.
    expect(json.channels).toEqual({ incident: false, slack: false, webhook: false });
    expect(JSON.stringify(json)).not.toMatch(/test-token|secret-current|grafana-test-secret/);
  });

  it("answers 503 with every problem, naming settings but never their values", async () => {
    const { status, json } = await health({
      CF_ACCOUNT_ID: "replace-with-your-account-id",
      RULES: '[{"name":"x",}]',
      ZAPIER_TOKEN: "",
      ACCESS_TEAM_DOMAIN: "https://acme.cloudflareaccess.com",
    });
    expect(status).toBe(503);
    expect(json.problems).toEqual([
      "CF_ACCOUNT_ID: is still the placeholder from wrangler.jsonc: set your account id",
      "RULES: not valid JSON: at line 1, column 14",
      "ACCESS_TEAM_DOMAIN and ACCESS_AUD: set both, or neither",
    ]);
    expect(json.sources.zapier).toBe(false);
  });

  it("reports a missing DEX token beside a bad variable", async () => {
    const { json } = await health({ DEX_API_TOKEN: "", MAX_COMMANDS_PER_MINUTE: "9000" });
    expect(json.problems).toEqual([expect.stringMatching(/^MAX_COMMANDS_PER_MINUTE: /), "DEX_API_TOKEN: is not set"]);
  });

  it("reports a rule the schema refuses with its path, and a missing DEX token", async () => {
    const { json } = await health({ RULES: [{ name: "x", command: { type: "traceroute" } }] as unknown as string, DEX_API_TOKEN: "" });
    expect(json.problems).toEqual(["DEX_API_TOKEN: is not set", expect.stringMatching(/^RULES\[0\]\.command\.type: /)]);
  });
});
