import { beforeEach, describe, expect, it } from "vitest";
import { createStandIn } from "../../dev/dex-stand-in/app";
import { JANE, mockDexApi, SAM, type OtherCall } from "../helpers/dex-api-mock";
import { holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { PAGERDUTY_API, postIncident, reportsSettled, RESULT_WEBHOOK, SLACK_HOOK, runReportingConsumer, fetchReporting } from "../helpers/reports";
import { isolateEachTest, RELAY } from "../helpers/relay";
import { SLACK_SIGNING_SECRET, SLACK_TEAM } from "../helpers/slack";

/**
 * The DEX stand-in's Slack (dev/dex-stand-in/slack.ts), played against the relay itself: the
 * relay's messages reach it, its buttons' clicks reach the relay signed as Slack signs them,
 * and the relay's update comes back through the click's response_url.
 */

const INCIDENT = "Q2STANDIN0001";
/** The stand-in answers on Slack's (test) host, where the relay lets a response_url point. */
const SLACK_HOST = new URL(SLACK_HOOK).origin;
const STAND_IN_ENV = {
  STAND_IN_SLACK_SIGNING_SECRET: SLACK_SIGNING_SECRET,
  STAND_IN_SLACK_TEAM: SLACK_TEAM,
  STAND_IN_RELAY_URL: RELAY,
  STAND_IN_URL: SLACK_HOST,
};

isolateEachTest();
beforeEach(holdLedgerClock);

describe("the stand-in's Slack", () => {
  it("shows the approval's buttons, clicks Approve as Slack would, and shows the relay's update; the capture then runs", async () => {
    const standIn = createStandIn();
    /** The relay's webhook and response_url posts, answered by the stand-in's Slack (its webhook is any path under /slack/). */
    const toStandIn = async (call: OtherCall) => {
      const path = call.url === SLACK_HOOK ? "/slack/services/T000/B000/test-hook" : new URL(call.url).pathname;
      return standIn.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: await call.text() }, STAND_IN_ENV);
    };
    const others: Record<string, (call: OtherCall) => Response | Promise<Response>> = {
      [`POST ${PAGERDUTY_API}/incidents/${INCIDENT}/notes`]: () => Response.json({}, { status: 201 }),
      [`POST ${RESULT_WEBHOOK}`]: () => new Response(null, { status: 204 }),
      [`POST ${SLACK_HOOK}`]: toStandIn,
      // The stand-in's click, to the relay's interactivity URL, exactly as the stand-in sent it.
      [`POST ${RELAY}/v1/slack/interactions`]: async (call) => fetchReporting(call.url, { method: "POST", headers: call.headers, body: await call.text() }),
    };
    for (const id of ["m1", "m2", "m3"]) others[`POST ${SLACK_HOST}/slack/responses/${id}`] = toStandIn;
    const api = mockDexApi([JANE, SAM], others);

    const { queued } = await postIncident(INCIDENT, `VPN packet loss above 8% for ${JANE.personEmail}`);
    await runReportingConsumer(queued);
    await runLedgerAlarm();
    await reportsSettled();

    const shown = async () =>
      (await (await standIn.request("/", {}, STAND_IN_ENV)).json<{ reports: Array<Record<string, any>> }>()).reports.filter((r) => r.channel === "slack");
    const approval = (await shown()).find((m) => m.body.text.includes("awaits approval"))!;
    const page = await (await standIn.request("/slack", {}, STAND_IN_ENV)).text();
    expect(page).toContain(
      `<form method="post" action="/slack/messages/${approval.message_id}/click"><input type="hidden" name="action_id" value="approval.approve"><button type="submit">Approve</button></form>`,
    );
    expect(page).toContain('value="approval.deny"><button type="submit">Deny</button>');

    const click = await standIn.request(
      `/slack/messages/${approval.message_id}/click`,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action_id: "approval.approve" }) },
      STAND_IN_ENV,
    );
    expect(await click.json()).toMatchObject({ action_id: "approval.approve", user: "local.oncall", relay_status: 200 });
    for (let i = 0; i < 200 && !(await shown()).find((m) => m.message_id === approval.message_id)?.updates; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));

    const updated = (await shown()).find((m) => m.message_id === approval.message_id)!;
    expect(updated.updates).toHaveLength(1);
    expect(updated.body.text).toMatch(/was approved by @local\.oncall \(ULOCALONCAL\) in Slack at \S+; the relay is sending it\./);
    expect(updated.body.blocks.some((b: any) => b.type === "actions")).toBe(false);
    await runLedgerAlarm();
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag", "pcap"]);
  });

  it("says so when a message has no such button", async () => {
    const standIn = createStandIn();
    await standIn.request("/slack/T0/B0/hook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "no buttons" }),
    });
    const res = await standIn.request("/slack/messages/m1/click", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action_id: "approval.approve" }),
    });
    expect(res.status).toBe(404);
  });
});
