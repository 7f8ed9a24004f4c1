import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { CAPTURE_AGAIN_ACTION } from "../../src/report/capture-again";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { PAGERDUTY_API, postIncident, reportsSettled, RESULT_WEBHOOK, SLACK_HOOK, runReportingConsumer, until } from "../helpers/reports";
import { deliveryRecord, isolateEachTest } from "../helpers/relay";
import { blockActions, postSlackClick, RESPONSE_URL } from "../helpers/slack";

const INCIDENT = "Q2AGAINJANE001";

function receivers() {
  const api = mockDexApi([JANE, SAM], {
    [`POST ${PAGERDUTY_API}/incidents/${INCIDENT}/notes`]: () => Response.json({ note: { id: "PN1" } }, { status: 201 }),
    [`POST ${SLACK_HOOK}`]: () => new Response("ok"),
    [`POST ${RESPONSE_URL}`]: () => new Response("ok"),
    [`POST ${RESULT_WEBHOOK}`]: () => new Response(null, { status: 204 }),
  });
  const to = (key: string) => api.otherCalls.filter((r) => `${r.method} ${r.url}` === key);
  return {
    api,
    slack: () => Promise.all(to(`POST ${SLACK_HOOK}`).map((r) => r.json<Record<string, any>>())),
    responses: () => Promise.all(to(`POST ${RESPONSE_URL}`).map((r) => r.json<Record<string, any>>())),
  };
}

/** Jane's incident: the warp-diag runs at once (the pcap waits for an approval), then finishes. */
async function finishedWarpDiag(world: ReturnType<typeof receivers>) {
  const { queued } = await postIncident(INCIDENT, `VPN packet loss above 8% for ${JANE.personEmail}`);
  await runReportingConsumer(queued);
  const warpDiag = world.api.commands.find((command) => command.type === "warp-diag")!;
  world.api.settle(warpDiag.id, "SUCCESS", `warp-diag-${warpDiag.id}.zip`);
  for (let i = 0; i < 4; i++) {
    advanceClock(20_000);
    await runLedgerAlarm();
    await reportsSettled();
  }
  const finished = (await world.slack()).find((message) => message.text.includes("warp-diag on JANE-MBP") && message.text.includes("finished: SUCCESS"));
  expect(finished, "the finished report in Slack").toBeDefined();
  return { warpDiag, finished: finished! };
}

/** A signed click, keeping what it queues. */
async function click(value: string) {
  const queued: DeliveryMessage[] = [];
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    queued.push(body as DeliveryMessage);
    return {} as QueueSendResponse;
  });
  try {
    const answer = await postSlackClick(blockActions(CAPTURE_AGAIN_ACTION, value));
    return { ...answer, queued };
  } finally {
    send.mockRestore();
  }
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("Slack: Capture again", () => {
  it("puts a Capture again button under a finished command's report, carrying only its command id", async () => {
    const world = receivers();
    const { warpDiag, finished } = await finishedWarpDiag(world);
    const actions = finished.blocks.find((block: { type: string }) => block.type === "actions");
    expect(actions.elements).toEqual([
      { type: "button", action_id: CAPTURE_AGAIN_ACTION, text: { type: "plain_text", text: "Capture again" }, value: warpDiag.id },
    ]);
  });

  it("runs the command again on the same device, under the on-demand rule of its type, naming who clicked", async () => {
    const world = receivers();
    const { warpDiag } = await finishedWarpDiag(world);
    const answer = await click(warpDiag.id);
    expect(answer.status).toBe(200);
    expect(answer.queued).toHaveLength(1);
    expect(answer.queued[0]!.alerts[0]).toMatchObject({
      target: { device_id: JANE.deviceId, user_email: JANE.personEmail },
      request: { rule: "warp-diag-on-demand", requested_by: "@jane.oncall (U0APPROVER) in Slack", via: "slack" },
    });
    await until(async () => (await world.responses()).length > 0);
    expect((await world.responses())[0]).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining("Asked for under rule warp-diag-on-demand"),
    });

    const creates = world.api.callsTo("create").length;
    await runReportingConsumer(answer.queued);
    expect(world.api.callsTo("create")).toHaveLength(creates + 1);
    const record = await deliveryRecord(answer.queued[0]!.delivery_id);
    expect(record?.decisions).toEqual([expect.objectContaining({ rule: "warp-diag-on-demand", outcome: "created", device_id: JANE.deviceId })]);
  });

  it("asks for nothing when the value names no command the relay made, and tells the clicker", async () => {
    const world = receivers();
    const answer = await click("6f1c2d4e-0000-4000-8000-00000000dead");
    expect(answer).toMatchObject({ status: 200, queued: [] });
    await until(async () => (await world.responses()).length > 0);
    expect((await world.responses())[0]).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/^Nothing was asked for: no such command/) });
    expect(world.api.callsTo("create")).toHaveLength(0);
  });
});
