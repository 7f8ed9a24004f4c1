import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import {
  PAGERDUTY_API,
  postIncident,
  reportsSettled,
  alarmAndReports,
  until,
  RESULT_WEBHOOK,
  SLACK_HOOK,
  expectedSignature,
  runReportingConsumer,
  fetchReporting,
  REPORTING,
} from "../helpers/reports";
import { isolateEachTest, RELAY, rulesWithApprovers } from "../helpers/relay";
import { blockActions, postSlackClick, RESPONSE_URL, signSlack } from "../helpers/slack";

/**
 * Approval from Slack, with every report channel on and the shipped rules: the pcap rule
 * wants a person to approve each capture.
 */

const JANE_INCIDENT = "Q2APPROVEJANE1";
const SAM_INCIDENT = "Q2APPROVESAM01";
const SLACK = `POST ${SLACK_HOOK}`;
const RESPONSE = `POST ${RESPONSE_URL}`;
const WEBHOOK = `POST ${RESULT_WEBHOOK}`;
const notesOf = (incident: string) => `POST ${PAGERDUTY_API}/incidents/${incident}/notes`;
const TOKEN = /^[0-9a-f]{64}\.[0-9a-f]{32}$/;

/** The DEX API, PagerDuty, Slack (its webhook and its response_url) and the result webhook. */
function receivers() {
  const api = mockDexApi([JANE, SAM], {
    [notesOf(JANE_INCIDENT)]: () => Response.json({ note: { id: "PN1" } }, { status: 201 }),
    [notesOf(SAM_INCIDENT)]: () => Response.json({ note: { id: "PN2" } }, { status: 201 }),
    [SLACK]: () => new Response("ok"),
    [RESPONSE]: () => new Response("ok"),
    [WEBHOOK]: () => new Response(null, { status: 204 }),
  });
  const to = (key: string) => api.otherCalls.filter((r) => `${r.method} ${r.url}` === key);
  return {
    api,
    notes: async (incident = JANE_INCIDENT) => Promise.all(to(notesOf(incident)).map(async (r) => (await r.json()).note.content as string)),
    slack: () => Promise.all(to(SLACK).map((r) => r.json<Record<string, any>>())),
    responses: () => Promise.all(to(RESPONSE).map((r) => r.json<Record<string, any>>())),
    webhook: () => to(WEBHOOK),
  };
}

/** A PagerDuty incident about Jane's packet loss: a warp-diag at once, a pcap once approved. */
async function incident(id = JANE_INCIDENT, user = JANE.personEmail, overrides: Partial<Record<keyof Env, unknown>> = {}) {
  const { status, json, queued } = await postIncident(id, `VPN packet loss above 8% for ${user}`);
  expect(status).toBe(202);
  await runReportingConsumer(queued, 1, overrides);
  await runLedgerAlarm();
  await reportsSettled();
  return json.delivery_id as string;
}

/** The Approve and Deny buttons of the Slack message that asks to approve the pcap on `device`. */
async function buttonsOf(slack: () => Promise<Array<Record<string, any>>>, device = "JANE-MBP") {
  const message = (await slack()).find((m) => m.text.includes(`pcap on ${device}`) && m.text.includes("awaits approval"));
  expect(message, "the approval's Slack message").toBeDefined();
  return message!.blocks.find((b: any) => b.type === "actions").elements as Array<Record<string, any>>;
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("asking for approval", () => {
  it("sends nothing to the device, and asks in Slack with Approve and Deny, on the incident with the console's link, and on the result webhook", async () => {
    const { api, notes, slack, webhook } = receivers();
    const deliveryId = await incident();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
    expect((await currentDelivery(deliveryId)).decisions.map((d: any) => `${d.rule}: ${d.outcome}`)).toEqual([
      "vpn-packet-loss-pcap: awaiting-approval",
      "warp-diag-on-critical: created",
    ]);

    const [approve, deny] = await buttonsOf(slack);
    expect(approve).toMatchObject({
      type: "button",
      action_id: "approval.approve",
      text: { type: "plain_text", text: "Approve" },
      style: "primary",
      value: expect.stringMatching(TOKEN),
    });
    expect(deny).toMatchObject({ type: "button", action_id: "approval.deny", text: { type: "plain_text", text: "Deny" }, style: "danger" });
    expect(deny!.value).toBe(approve!.value);

    expect(await notes()).toEqual([
      "warp-diag started on JANE-MBP (jane.doe@example.com) by rule warp-diag-on-critical.",
      expect.stringMatching(
        /^pcap on JANE-MBP \(jane\.doe@example\.com\) \(rule vpn-packet-loss-pcap\) awaits approval: nothing is sent to the device unless someone approves it by \S+Z\. Approve or deny it in the console: https:\/\/relay\.test\/console#approval-[0-9a-f]{64}$/,
      ),
    ]);
    const events = await Promise.all(webhook().map(async (r) => ({ request: r, body: await r.text() })));
    const requested = events.find((e) => JSON.parse(e.body).type === "approval.requested")!;
    expect(requested.request.headers.get("webhook-signature")).toBe(
      await expectedSignature(requested.request.headers.get("webhook-id")!, requested.request.headers.get("webhook-timestamp")!, requested.body),
    );
    expect(JSON.parse(requested.body).data).toMatchObject({
      type: "pcap",
      device_id: JANE.deviceId,
      rule: "vpn-packet-loss-pcap",
      delivery_id: deliveryId,
      approval: { state: "awaiting" },
      console_url: expect.stringMatching(/^https:\/\/relay\.test\/console#approval-[0-9a-f]{64}$/),
    });
    expect(JSON.parse(requested.body).data.console_url).toBe(`https://relay.test/console#approval-${JSON.parse(requested.body).data.key}`);
    // The buttons' secret goes to Slack only.
    const secret = approve!.value.split(".")[1];
    expect([...(await notes()), ...events.map((e) => e.body)].some((text) => text.includes(secret))).toBe(false);
  });
});

describe("deciding from Slack, when the rule names its approvers", () => {
  const RULES = rulesWithApprovers(["U0SAMLEE", "oncall@example.com"]);

  it("says who may decide in the request, answers anyone else privately, and lets a listed user decide", async () => {
    const { api, slack, responses } = receivers();
    await incident(JANE_INCIDENT, JANE.personEmail, { RULES });
    const request = (await slack()).find((m) => m.text.includes("awaits approval"));
    expect(request!.text).toContain("awaits approval (only U0SAMLEE, oncall@example.com may decide)");
    const [approve] = await buttonsOf(slack);

    expect(await postSlackClick(blockActions("approval.approve", approve!.value, { user: "U0SOMEONE" }))).toEqual({ status: 200, text: "" });
    await until(async () => (await responses()).length === 1);
    expect((await responses())[0]).toEqual({
      response_type: "ephemeral",
      replace_original: false,
      text: "Only this rule's approvers may decide (<@U0SAMLEE>, oncall@example.com): your click changed nothing.",
    });
    await alarmAndReports();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);

    await postSlackClick(blockActions("approval.approve", approve!.value, { user: "U0SAMLEE" }));
    await until(async () => (await responses()).length === 2);
    expect((await responses())[1]!.text).toContain("was approved by @jane.oncall (U0SAMLEE) in Slack");
    await alarmAndReports();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
  });
});

describe("deciding from Slack", () => {
  it("Approve: answered at once, the message says who approved, the ledger sends the capture, and the audit trail and reports name who", async () => {
    const { api, notes, slack, responses, webhook } = receivers();
    const deliveryId = await incident();
    const [approve] = await buttonsOf(slack);

    const click = await postSlackClick(blockActions("approval.approve", approve!.value));
    expect(click).toEqual({ status: 200, text: "" });
    await until(async () => (await responses()).length > 0);
    const [update] = await responses();
    expect(update).toMatchObject({ replace_original: true });
    expect(update!.text).toMatch(
      /^pcap on JANE-MBP \(jane\.doe@example\.com\) \(rule vpn-packet-loss-pcap\) was approved by @jane\.oncall \(U0APPROVER\) in Slack at \S+; the relay is sending it\./,
    );
    expect(JSON.stringify(update!.blocks)).not.toContain("approval.approve");

    await alarmAndReports();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
    const pcap = (await currentDelivery(deliveryId)).decisions.find((d: any) => d.rule === "vpn-packet-loss-pcap");
    expect(pcap).toMatchObject({
      outcome: "created",
      command_id: api.commands[1]!.id,
      approval: { state: "approved", by: "@jane.oncall (U0APPROVER)", via: "slack", at: expect.any(String) },
    });
    expect(await notes()).toContain(
      "pcap started on JANE-MBP (jane.doe@example.com) by rule vpn-packet-loss-pcap. pcap approved by @jane.oncall (U0APPROVER) in Slack.",
    );
    const created = (await Promise.all(webhook().map((r) => r.json<Record<string, any>>()))).find(
      (e) => e.type === "command.created" && e.data.type === "pcap",
    );
    expect(created?.data.approval).toMatchObject({ state: "approved", by: "@jane.oncall (U0APPROVER)", via: "slack" });
  });

  it("Deny: final and never sent; Slack's clicked message says so, and PagerDuty and the result webhook hear of it", async () => {
    const { api, notes, slack, responses, webhook } = receivers();
    const deliveryId = await incident();
    const [, deny] = await buttonsOf(slack);
    const slackBefore = (await slack()).length;

    expect((await postSlackClick(blockActions("approval.deny", deny!.value))).status).toBe(200);
    await until(async () => (await responses()).length > 0);
    expect((await responses())[0]!.text).toMatch(/was denied by @jane\.oncall \(U0APPROVER\) in Slack at \S+; it was never sent\./);
    await alarmAndReports();
    advanceClock(3 * 3600_000);
    await alarmAndReports();

    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
    const pcap = (await currentDelivery(deliveryId)).decisions.find((d: any) => d.rule === "vpn-packet-loss-pcap");
    expect(pcap).toMatchObject({
      outcome: "denied",
      reason: "denied by @jane.oncall (U0APPROVER) (slack); never sent",
      approval: { state: "denied", via: "slack" },
    });
    expect((await notes()).some((n) => /pcap on JANE-MBP .* was denied by @jane\.oncall \(U0APPROVER\) in Slack/.test(n))).toBe(true);
    expect((await Promise.all(webhook().map((r) => r.json<Record<string, any>>()))).map((e) => e.type)).toContain("approval.denied");
    // The clicked message already says it: no second Slack message about the denial.
    expect((await slack()).slice(slackBefore).some((m) => m.text.includes("denied"))).toBe(false);
  });

  it("a second click, or a click after a decision in the console, changes nothing and says so", async () => {
    const { api, slack, responses } = receivers();
    await incident();
    const [approve, deny] = await buttonsOf(slack);
    await postSlackClick(blockActions("approval.approve", approve!.value));
    expect((await postSlackClick(blockActions("approval.approve", approve!.value))).status).toBe(200);
    expect((await postSlackClick(blockActions("approval.deny", deny!.value, { user: "U0SOMEONE" }))).status).toBe(200);
    await until(async () => (await responses()).length === 3);
    const [, again, late] = await responses();
    expect(again!.text).toContain("was approved by @jane.oncall (U0APPROVER) in Slack");
    expect(again!.text).toContain("It was already decided: your click changed nothing.");
    expect(late!.text).toContain("It was already decided: your click changed nothing.");
    await alarmAndReports();
    await alarmAndReports();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
  });

  it("expires unsent when nobody decides in time, reports it, and a late click changes nothing", async () => {
    const { api, notes, slack, responses, webhook } = receivers();
    const deliveryId = await incident();
    const [approve] = await buttonsOf(slack);
    // The warp-diag finishes; the alarms then run until the approval's expiry.
    api.settle(api.commands[0]!.id, "SUCCESS", "warp-diag.zip");
    for (let i = 0; i < 20 && (await currentDelivery(deliveryId)).decisions[0].outcome === "awaiting-approval"; i++) await alarmAndReports();
    await reportsSettled();

    const pcap = (await currentDelivery(deliveryId)).decisions[0];
    expect(pcap).toMatchObject({ outcome: "expired", reason: "nobody approved it within 30 minutes; never sent", approval: { state: "expired" } });
    expect((await slack()).some((m) => /pcap on JANE-MBP .* expired at \S+: nobody approved it in time/.test(m.text))).toBe(true);
    expect((await notes()).some((n) => n.includes("expired at"))).toBe(true);
    expect((await Promise.all(webhook().map((r) => r.json<Record<string, any>>()))).map((e) => e.type)).toContain("approval.expired");

    await postSlackClick(blockActions("approval.approve", approve!.value));
    await until(async () => (await responses()).length > 0);
    expect((await responses())[0]!.text).toContain("It had expired: your click changed nothing.");
    await alarmAndReports();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
  });
});

describe("forged and replayed clicks", () => {
  /** Jane's capture awaits approval; returns its Approve button's value and a check that nothing changed. */
  async function awaiting() {
    const r = receivers();
    await incident();
    const [approve] = await buttonsOf(r.slack);
    const unchanged = async () => {
      const { commands } = await (
        await exports.default.fetch(`${RELAY}/v1/commands?status=awaiting-approval`, { headers: { authorization: "Bearer admin-test-token" } })
      ).json<{ commands: unknown[] }>();
      expect(commands).toHaveLength(1);
      expect(r.api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
      expect(await r.responses()).toEqual([]);
    };
    return { ...r, value: approve!.value as string, unchanged };
  }

  it("refuses a bad signature, a stale or future timestamp, and missing headers, with 401 and nothing else", async () => {
    const { value, unchanged } = await awaiting();
    const payload = blockActions("approval.approve", value);
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      await postSlackClick(payload, { secret: "not-the-signing-secret" }),
      await postSlackClick(payload, { timestamp: now - 301 }),
      await postSlackClick(payload, { timestamp: now + 301 }),
      await postSlackClick(payload, { signature: "v0=" }),
      await postSlackClick(payload, { signature: `v1=${"0".repeat(64)}` }),
    ];
    expect(refused).toEqual(refused.map(() => ({ status: 401, text: '{"error":"unauthorized"}' })));
    // A genuine click replayed with a fresh timestamp but its old signature.
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const old = now - 400;
    const replayed = await fetchReporting(`${RELAY}/v1/slack/interactions`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(now),
        "x-slack-signature": await signSlack(body, old),
      },
      body,
    });
    expect(replayed.status).toBe(401);
    await unchanged();
  });

  it("refuses a click from another Slack workspace than SLACK_TEAM_ID, and one that names none", async () => {
    const { value, unchanged } = await awaiting();
    expect((await postSlackClick(blockActions("approval.approve", value, { team: "T0OTHER" }))).status).toBe(401);
    expect((await postSlackClick(blockActions("approval.approve", value, { team: null }))).status).toBe(401);
    await unchanged();
  });

  it("refuses every click while SLACK_SIGNING_SECRET is unset", async () => {
    const { value, unchanged } = await awaiting();
    const body = new URLSearchParams({ payload: JSON.stringify(blockActions("approval.approve", value)) }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const ctx = createExecutionContext();
    const res = await app.request(
      `${RELAY}/v1/slack/interactions`,
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": await signSlack(body, timestamp, "any-secret"),
        },
        body,
      },
      { ...env, ...REPORTING, SLACK_SIGNING_SECRET: "" } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(401);
    await unchanged();
  });

  it("a button value that joins one command's key to another's secret, or that is made up, decides nothing", async () => {
    const r = receivers();
    await incident();
    await incident(SAM_INCIDENT, SAM.personEmail);
    const [jane] = await buttonsOf(r.slack);
    const [sam] = await buttonsOf(r.slack, "SAM-XPS13");
    const [janeKey, janeSecret] = (jane!.value as string).split(".");
    const [samKey, samSecret] = (sam!.value as string).split(".");
    for (const value of [`${janeKey}.${samSecret}`, `${samKey}.${janeSecret}`, `${janeKey}.${"0".repeat(32)}`, janeKey!, "anything"]) {
      expect((await postSlackClick(blockActions("approval.approve", value!))).status).toBe(200);
    }
    await until(async () => (await r.responses()).length === 5);
    expect((await r.responses()).map((m) => [m.response_type, m.replace_original, m.text])).toEqual(
      Array(5).fill(["ephemeral", false, "The relay does not know this approval (or no longer keeps it): nothing changed."]),
    );
    await alarmAndReports();
    expect(r.api.commands.map((c) => c.type)).toEqual(["warp-diag", "warp-diag"]);
    const { commands } = await (
      await exports.default.fetch(`${RELAY}/v1/commands?status=awaiting-approval`, { headers: { authorization: "Bearer admin-test-token" } })
    ).json<{ commands: unknown[] }>();
    expect(commands).toHaveLength(2);
  });

  it("answers a button it does not know, and an interaction that is not a click, with 200 and does nothing", async () => {
    const { value, unchanged } = await awaiting();
    expect(await postSlackClick(blockActions("something.else", value))).toEqual({ status: 200, text: "" });
    expect(await postSlackClick({ type: "view_closed", team: { id: "T0TEST" }, user: { id: "U1" } })).toEqual({ status: 200, text: "" });
    await unchanged();
  });

  it("answers a signed body that is not Slack's form with 400, and never writes to a response_url off Slack's host", async () => {
    const { value, unchanged, api } = await awaiting();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify(blockActions("approval.approve", value));
    const res = await fetchReporting(`${RELAY}/v1/slack/interactions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-slack-request-timestamp": String(timestamp), "x-slack-signature": await signSlack(body, timestamp) },
      body,
    });
    expect(res.status).toBe(400);
    await unchanged();

    const problems: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line) => void problems.push(String(line)));
    await postSlackClick(blockActions("approval.approve", value, { response_url: "https://elsewhere.test/steal" }));
    await until(async () => problems.some((p) => p.includes("slack-response-refused")));
    expect(problems.some((p) => p.includes("slack-response-refused"))).toBe(true);
    expect(api.otherCalls.some((c) => c.url.startsWith("https://elsewhere.test"))).toBe(false);
  });
});
