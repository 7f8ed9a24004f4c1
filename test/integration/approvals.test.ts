import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { forgetAccessKeys } from "../../src/admin/access-jwt";
import { accessToken, AUDIENCE, CERTS_URL, certsOf, signingKey, TEAM_DOMAIN } from "../helpers/access";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, ledger, runLedgerAlarm } from "../helpers/ledger";
import { fetchWith, isolateEachTest, postZapier, RELAY, rulesWithApprovers, runConsumer } from "../helpers/relay";

/**
 * Approval per rule, decided in the console (Slack's buttons: test/reports/approvals.test.ts).
 * The shipped pcap rule wants a person to approve each capture, within 30 minutes.
 */

const ADMIN = { authorization: "Bearer admin-test-token" };
const SAME_ORIGIN = { ...ADMIN, origin: RELAY };
const MINUTE = 60_000;

async function get(path: string): Promise<Record<string, any>> {
  const res = await exports.default.fetch(`${RELAY}${path}`, { headers: ADMIN });
  return res.headers.get("content-type")?.includes("json") ? res.json<Record<string, any>>() : { html: await res.text() };
}

/** An alert about `user`'s packet loss, consumed: with the shipped rules, a warp-diag at once and a pcap awaiting approval. */
async function packetLoss(id: string, user = JANE.personEmail!, overrides: Record<string, unknown> = {}) {
  const { json, queued } = await postZapier({ id, severity: "critical", title: "VPN packet loss", user_email: user });
  await runConsumer(queued, 1, overrides);
  return json.delivery_id as string;
}

async function awaitingApproval(): Promise<Array<Record<string, any>>> {
  return (await get("/v1/commands?status=awaiting-approval")).commands;
}

/** The key of the one command awaiting approval: what the console's forms post to. */
async function awaitingKey(): Promise<string> {
  const [command] = await awaitingApproval();
  return command!.key;
}

/** Posts the console's Approve or Deny form, as the browser does from the relay's own page. */
async function decide(key: string, decision: string, headers: Record<string, string> = SAME_ORIGIN) {
  const res = await exports.default.fetch(`${RELAY}/console/approvals/${key}/${decision}`, { method: "POST", headers, redirect: "manual" });
  return { status: res.status, location: res.headers.get("location") };
}

function pcapOf(delivery: Record<string, any>) {
  return delivery.decisions.find((d: any) => d.rule === "vpn-packet-loss-pcap");
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("a command whose rule wants approval", () => {
  it("is claimed but not sent: the audit trail says it awaits approval, until when", async () => {
    const api = mockDexApi();
    const deliveryId = await packetLoss("A-1");
    expect(api.callsTo("create").flatMap((c) => (c.body as any).commands.map((x: any) => x.type))).toEqual(["warp-diag"]);
    const pcap = pcapOf(await currentDelivery(deliveryId));
    expect(pcap).toMatchObject({
      outcome: "awaiting-approval",
      reason: expect.stringMatching(/^waits for a person to approve it \(Slack or the console\) until \S+Z; nothing is sent before$/),
    });
    expect(pcap.approval).toEqual({ state: "awaiting", expires_at: expect.any(String) });
    expect(Date.parse(pcap.approval.expires_at) - Date.now()).toBe(30 * MINUTE);
    expect((await currentDelivery(deliveryId)).state).toBe("in-progress");
    const [listed] = await awaitingApproval();
    expect(listed).toMatchObject({
      rule: "vpn-packet-loss-pcap",
      type: "pcap",
      device_id: JANE.deviceId,
      outcome: "awaiting-approval",
      command_id: null,
      approval: { state: "awaiting" },
    });
  });

  it("is asked once: a repeat of the alert is a duplicate, another alert about the device is held by the cooldown while it waits", async () => {
    mockDexApi();
    // A cooldown shorter than the wait for approval: the request still holds it.
    const rules = [
      { name: "pcap-approved", cooldown_minutes: 10, approval: { expires_minutes: 60 }, match: { title: "/packet loss/" }, command: { type: "pcap" } },
    ];
    await packetLoss("A-2", JANE.personEmail!, { RULES: rules });
    const repeat = await packetLoss("A-2", JANE.personEmail!, { RULES: rules });
    advanceClock(20 * MINUTE);
    const another = await packetLoss("A-3", JANE.personEmail!, { RULES: rules });
    expect(pcapOrOnly(await currentDelivery(repeat))).toMatchObject({ outcome: "duplicate", reason: expect.stringContaining("already awaits approval") });
    expect(pcapOrOnly(await currentDelivery(another))).toMatchObject({
      outcome: "cooldown",
      reason: expect.stringContaining("already awaits approval for pcap on this device"),
    });
    expect(await awaitingApproval()).toHaveLength(1);
  });

  it("approved in the console, is sent as an ordinary command, and the audit trail names who approved it, how and when", async () => {
    const api = mockDexApi();
    const deliveryId = await packetLoss("A-4");
    const key = await awaitingKey();
    expect(await decide(key, "approve")).toEqual({ status: 303, location: "/console?approval=approved#approvals" });
    // Decided at once; sent by the ledger's alarm, due now.
    expect(await runLedgerAlarm()).toBe(true);
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);

    const pcap = pcapOf(await currentDelivery(deliveryId));
    expect(pcap).toMatchObject({
      outcome: "created",
      command_id: api.commands[1]!.id,
      approval: { state: "approved", by: "admin token", via: "console", at: expect.any(String) },
    });
    const [listed] = (await get("/v1/commands?status=created")).commands.filter((c: any) => c.type === "pcap");
    expect(listed.approval).toMatchObject({ state: "approved", by: "admin token", via: "console" });
  });

  it("counts its useful wait and its retries from the approval, not from the alert", async () => {
    const api = mockDexApi();
    const alertAt = Date.now();
    await packetLoss("A-5", SAM.personEmail!);
    const key = await awaitingKey();
    advanceClock(29 * MINUTE);
    await decide(key, "approve");
    // Creates that do not land for three minutes: past 30 minutes since the alert, not since the approval.
    api.failNext("create", ...Array<"network">(7).fill("network"));
    for (let i = 0; i < 20 && api.commands.filter((c) => c.type === "pcap").length === 0; i++) await runLedgerAlarm();
    expect(api.commands.filter((c) => c.type === "pcap")).toHaveLength(1);
    expect(Date.now() - alertAt).toBeGreaterThan(31 * MINUTE);
  });

  it("denied in the console, is final and never sent, and a second decision changes nothing", async () => {
    const api = mockDexApi();
    const deliveryId = await packetLoss("A-6");
    const key = await awaitingKey();
    expect(await decide(key, "deny")).toEqual({ status: 303, location: "/console?approval=denied#approvals" });
    expect(await decide(key, "approve")).toEqual({ status: 303, location: "/console?approval=already-decided#approvals" });
    advanceClock(3600_000);
    for (let i = 0; i < 5; i++) await runLedgerAlarm();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
    const delivery = await currentDelivery(deliveryId);
    expect(pcapOf(delivery)).toMatchObject({
      outcome: "denied",
      reason: "denied by admin token (console); never sent",
      approval: { state: "denied", by: "admin token", via: "console" },
    });
    expect(delivery.state).toBe("done");
  });

  it("expires unsent when nobody decides in time: the ledger's alarm wakes for it, and a later alert may ask again", async () => {
    const api = mockDexApi();
    const rules = [{ name: "pcap-approved", approval: { expires_minutes: 15 }, match: { title: "/packet loss/" }, command: { type: "pcap" } }];
    const deliveryId = await packetLoss("A-7", JANE.personEmail!, { RULES: rules });
    const alarm = await runInDurableObject(ledger(), (_, state) => state.storage.getAlarm());
    expect(alarm).toBe(Date.now() + 15 * MINUTE);
    expect(await runLedgerAlarm()).toBe(true);

    expect(api.commands).toEqual([]);
    expect(pcapOrOnly(await currentDelivery(deliveryId))).toMatchObject({
      outcome: "expired",
      reason: "nobody approved it within 15 minutes; never sent",
      approval: { state: "expired", at: expect.any(String) },
    });
    expect((await currentDelivery(deliveryId)).state).toBe("done");
    const { key } = (await get("/v1/commands?status=expired")).commands[0];
    expect(await decide(key, "approve")).toEqual({ status: 303, location: "/console?approval=expired#approvals" });

    const later = await packetLoss("A-8", JANE.personEmail!, { RULES: rules });
    expect(pcapOrOnly(await currentDelivery(later)).outcome).toBe("awaiting-approval");
  });

  it("is decided at expiry's edge as expired, even before the alarm has run", async () => {
    mockDexApi();
    await packetLoss("A-9");
    const key = await awaitingKey();
    advanceClock(30 * MINUTE);
    expect(await decide(key, "approve")).toEqual({ status: 303, location: "/console?approval=expired#approvals" });
  });

  it("in a dry run, would wait for approval", async () => {
    mockDexApi();
    const { json } = await postZapier(
      { id: "A-10", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail },
      { "x-relay-admin-token": "admin-test-token" },
      "?dry_run=true",
    );
    expect(json.decisions.find((d: any) => d.rule === "vpn-packet-loss-pcap")).toMatchObject({
      outcome: "would-create",
      reason: "every check passed; it would wait up to 30 minutes for a person to approve it",
    });
  });
});

describe("the console's approvals", () => {
  it("lists what awaits approval with Approve and Deny, and after a decision says so and shows who decided", async () => {
    mockDexApi();
    await packetLoss("C-1");
    const key = await awaitingKey();
    const before = (await get("/console")).html as string;
    expect(before).toContain('id="approvals"');
    expect(before.match(/<tr class="approval" id="approval-[0-9a-f]{64}">/g)).toEqual([`<tr class="approval" id="approval-${key}">`]);
    expect(before).toContain(`action="/console/approvals/${key}/approve"`);
    expect(before).toContain(`action="/console/approvals/${key}/deny"`);

    const { location } = await decide(key, "approve");
    await runLedgerAlarm();
    const after = (await get(location!)).html as string;
    expect(after).toContain("Approved: the relay sends the command now.");
    expect(after).toContain("Nothing awaits approval.");
    expect(after).toMatch(/<span class="muted approval">approved by admin token \(console\) \S+<\/span>/);
  });

  it("refuses a decision posted from another site, and changes nothing", async () => {
    mockDexApi();
    await packetLoss("C-2");
    const key = await awaitingKey();
    expect((await decide(key, "approve", { ...ADMIN, origin: "https://evil.example" })).status).toBe(401);
    expect((await decide(key, "approve", { origin: RELAY })).status).toBe(401);
    expect(await awaitingApproval()).toHaveLength(1);
  });

  it("answers a key it does not hold with a notice, and anything that is not a key with 404", async () => {
    mockDexApi();
    expect(await decide("a".repeat(64), "approve")).toEqual({ status: 303, location: "/console?approval=unknown#approvals" });
    expect((await decide("not-a-key", "approve")).status).toBe(404);
    expect((await decide("a".repeat(64), "maybe")).status).toBe(404);
  });
});

/** Approves or denies through the operator API, as a script does with the admin token. */
async function decideByApi(key: string, decision: string, headers: Record<string, string> = ADMIN) {
  const res = await exports.default.fetch(`${RELAY}/v1/approvals/${key}/${decision}`, { method: "POST", headers });
  return { status: res.status, json: await res.json<Record<string, any>>() };
}

describe("the operator API's approvals", () => {
  it("approves from a script: the command is sent, and the audit trail says it was decided through the API", async () => {
    const api = mockDexApi();
    const deliveryId = await packetLoss("API-1");
    const key = await awaitingKey();
    const { status, json } = await decideByApi(key, "approve");
    expect(status).toBe(200);
    expect(json).toMatchObject({
      result: "approved",
      command: { key, rule: "vpn-packet-loss-pcap", type: "pcap", device_id: JANE.deviceId, approval: { state: "approved", by: "admin token", via: "api" } },
    });
    await runLedgerAlarm();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
    expect(pcapOf(await currentDelivery(deliveryId))).toMatchObject({ outcome: "created", approval: { state: "approved", via: "api" } });
  });

  it("denies from a script; a second decision changes nothing and answers 409 with why", async () => {
    const api = mockDexApi();
    await packetLoss("API-2");
    const key = await awaitingKey();
    expect(await decideByApi(key, "deny")).toMatchObject({ status: 200, json: { result: "denied", command: { approval: { state: "denied", via: "api" } } } });
    expect(await decideByApi(key, "approve")).toMatchObject({
      status: 409,
      json: { error: "it had already been decided: nothing changed", result: "already-decided", command: { approval: { state: "denied" } } },
    });
    await runLedgerAlarm();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
  });

  it("answers 409 for an approval that expired, 404 for a key it holds no approval for, and 401 without operator auth", async () => {
    mockDexApi();
    await packetLoss("API-3");
    const key = await awaitingKey();
    expect((await decideByApi(key, "approve", {})).status).toBe(401);
    expect((await decideByApi(key, "approve", { ...ADMIN, origin: "https://evil.example" })).status).toBe(401);
    expect((await decideByApi("a".repeat(64), "approve")).status).toBe(404);
    expect((await decideByApi("not-a-key", "approve")).status).toBe(404);
    expect((await decideByApi(key, "maybe")).status).toBe(404);
    advanceClock(31 * MINUTE);
    expect(await decideByApi(key, "approve")).toMatchObject({ status: 409, json: { error: "it had expired: nothing changed", result: "expired" } });
  });
});

describe("a rule that names its approvers", () => {
  const RULES = rulesWithApprovers(["oncall@example.com", "U0SAMLEE"]);
  const WITH_ACCESS = { ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE };

  let signing: Awaited<ReturnType<typeof signingKey>>;
  beforeEach(async () => {
    signing = await signingKey();
    forgetAccessKeys();
  });

  /** The DEX API, and the Access team whose key signs the operators' tokens. */
  function world() {
    return mockDexApi(undefined, { [`GET ${CERTS_URL}`]: async () => Response.json(await certsOf(signing)) });
  }

  /** An operator behind Cloudflare Access, signed in as `email`, decides through the API. */
  async function decideAs(email: string, key: string, decision: string) {
    const headers = { "cf-access-jwt-assertion": await accessToken(signing, { email }), origin: RELAY };
    const res = await fetchWith(WITH_ACCESS, `${RELAY}/v1/approvals/${key}/${decision}`, { method: "POST", headers });
    return { status: res.status, json: await res.json<Record<string, any>>() };
  }

  it("keeps its list with the request, and shows it in the audit trail", async () => {
    mockDexApi();
    const deliveryId = await packetLoss("AP-1", JANE.personEmail!, { RULES });
    expect(pcapOf(await currentDelivery(deliveryId)).approval).toMatchObject({ state: "awaiting", approvers: ["oncall@example.com", "U0SAMLEE"] });
  });

  it("is not decided by the admin token, which names no person: the console and the API say so, and nothing changes", async () => {
    const api = mockDexApi();
    await packetLoss("AP-2", JANE.personEmail!, { RULES });
    const key = await awaitingKey();
    expect((await get("/console")).html).toContain('<span class="muted approvers">only oncall@example.com, U0SAMLEE may decide</span>');
    const { location } = await decide(key, "approve");
    expect(location).toBe("/console?approval=not-allowed#approvals");
    expect((await get(location!)).html).toContain("Only this rule&#39;s approvers may decide");
    expect(await decideByApi(key, "deny")).toMatchObject({ status: 403, json: { result: "not-allowed", command: { approval: { state: "awaiting" } } } });
    await runLedgerAlarm();
    expect(await awaitingApproval()).toHaveLength(1);
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
  });

  it("is decided by an operator whose Access email it lists, in any case, and by no other", async () => {
    const api = world();
    await packetLoss("AP-3", JANE.personEmail!, { RULES });
    const key = await awaitingKey();
    expect(await decideAs("someone.else@example.com", key, "approve")).toMatchObject({ status: 403, json: { result: "not-allowed" } });
    expect(await awaitingApproval()).toHaveLength(1);
    expect(await decideAs("OnCall@Example.com", key, "approve")).toMatchObject({
      status: 200,
      json: { result: "approved", command: { approval: { state: "approved", by: "OnCall@Example.com", via: "api" } } },
    });
    await runLedgerAlarm();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
  });
});

/** The decision of a delivery about one rule (the pcap's, with the shipped rules). */
function pcapOrOnly(delivery: Record<string, any>) {
  return delivery.decisions.length === 1 ? delivery.decisions[0] : pcapOf(delivery);
}
