import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { holdLedgerClock } from "../helpers/ledger";
import { alarmAndReports, PAGERDUTY_API, RESULT_WEBHOOK, SLACK_HOOK, runReportingConsumer } from "../helpers/reports";
import { isolateEachTest, post } from "../helpers/relay";

const INCIDENT = "Q2Y4RWZ6E8TJ1K";
const NOTES = `POST ${PAGERDUTY_API}/incidents/${INCIDENT}/notes`;
const SLACK = `POST ${SLACK_HOOK}`;
const WEBHOOK = `POST ${RESULT_WEBHOOK}`;

/** The DEX API and the three receivers, all answering 2xx. */
function receivers() {
  const api = mockDexApi([JANE], {
    [NOTES]: () => Response.json({ note: { id: "PWL7QXS" } }, { status: 201 }),
    [SLACK]: () => new Response("ok"),
    [WEBHOOK]: () => new Response(null, { status: 204 }),
  });
  const to = (key: string) => api.otherCalls.filter((r) => `${r.method} ${r.url}` === key);
  return { api, notes: () => to(NOTES), slack: () => to(SLACK), webhook: () => to(WEBHOOK) };
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("reports of a capture on demand", () => {
  it("write to the incident it was asked for in, and every report names who asked", async () => {
    const { api, notes, slack, webhook } = receivers();
    const body = JSON.stringify({
      rule: "warp-diag-on-demand",
      user_email: JANE.personEmail,
      incident_id: INCIDENT,
      incident_title: "Calls keep freezing",
      requested_by: "Priya Raman",
    });
    const { json, queued } = await post("/v1/actions/pagerduty", {
      headers: { "content-type": "application/json", authorization: `Bearer ${env.PAGERDUTY_ACTION_SECRET}` },
      body,
    });
    await runReportingConsumer(queued);
    await alarmAndReports();

    const started = "warp-diag started on JANE-MBP (jane.doe@example.com) by rule warp-diag-on-demand, asked for by Priya Raman.";
    expect(await notes()[0]!.json()).toEqual({ note: { content: started } });
    const message = await slack()[0]!.json<Record<string, any>>();
    expect(message.text).toBe(`${started}\ncapture on demand: Calls keep freezing · delivery ${json.delivery_id}`);
    const created = await webhook()[0]!.json<Record<string, any>>();
    expect(created).toMatchObject({
      type: "command.created",
      data: { rule: "warp-diag-on-demand", source: "operator", requested_by: "Priya Raman", delivery_id: json.delivery_id },
    });

    const command = api.commands[0]!;
    api.settle(command.id, "SUCCESS", `warp-diag-${command.id}.zip`);
    await alarmAndReports();
    expect(await notes()[1]!.json()).toEqual({
      note: {
        content: `warp-diag on JANE-MBP (jane.doe@example.com) (rule warp-diag-on-demand, asked for by Priya Raman) finished: SUCCESS. Download (operators only): https://relay.test/v1/commands/${command.id}/download`,
      },
    });
  });

  it("write to no incident when none was named: Slack and the result webhook only", async () => {
    const { notes, slack, webhook } = receivers();
    const { queued } = await post("/v1/captures", {
      headers: { "content-type": "application/json", authorization: "Bearer admin-test-token" },
      body: JSON.stringify({ rule: "pcap-on-demand", target: { user_email: JANE.personEmail } }),
    });
    await runReportingConsumer(queued);
    await alarmAndReports();
    expect(notes()).toHaveLength(0);
    expect((await slack()[0]!.json<Record<string, any>>()).text).toContain(
      "pcap started on JANE-MBP (jane.doe@example.com) by rule pcap-on-demand, asked for by admin token.",
    );
    expect((await webhook()[0]!.json<Record<string, any>>()).data.requested_by).toBe("admin token");
  });
});
