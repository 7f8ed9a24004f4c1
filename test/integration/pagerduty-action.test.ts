/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import asEvent from "../../src/sources/pagerduty/action-fixtures/custom-action.event.json?raw";
import asMessages from "../../src/sources/pagerduty/action-fixtures/custom-action.messages.json?raw";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { currentDelivery } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, post, runConsumer } from "../helpers/relay";
import { signPagerDuty } from "../helpers/sign";

const BEARER = { authorization: `Bearer ${env.PAGERDUTY_ACTION_SECRET}` };

function action(query: string, body: string, headers: Record<string, string> = BEARER) {
  return post(`/v1/actions/pagerduty${query}`, { headers: { "content-type": "application/json", ...headers }, body });
}

/** What an Incident Workflow's web request sends, its fields filled in by PagerDuty. */
const workflowBody = (fields: Record<string, string> = {}) =>
  JSON.stringify({
    rule: "warp-diag-on-demand",
    user_email: JANE.personEmail,
    incident_id: "Q2Y4RWZ6E8TJ1K",
    incident_title: "Calls keep freezing",
    incident_url: "https://acme.pagerduty.com/incidents/Q2Y4RWZ6E8TJ1K",
    requested_by: "Priya Raman",
    ...fields,
  });

isolateEachTest();

describe("POST /v1/actions/pagerduty", () => {
  it("creates one command on the verified device for a workflow's web request, recorded with the incident and who asked", async () => {
    const api = mockDexApi();
    const { status, json, queued } = await action("", workflowBody());
    expect(status).toBe(202);
    expect(json).toEqual({
      status: "queued",
      delivery_id: expect.any(String),
      rule: "warp-diag-on-demand",
      requested_by: "Priya Raman",
      incident_id: "Q2Y4RWZ6E8TJ1K",
    });
    await runConsumer(queued);
    expect(api.callsTo("create")).toHaveLength(1);
    const delivery = await currentDelivery(json.delivery_id);
    expect(delivery).toMatchObject({
      source: "operator",
      alerts: [
        {
          title: "Calls keep freezing",
          request: { rule: "warp-diag-on-demand", requested_by: "Priya Raman", via: "pagerduty", incident_id: "Q2Y4RWZ6E8TJ1K" },
        },
      ],
      decisions: [{ outcome: "created", device_id: JANE.deviceId }],
    });
  });

  it("reads a signed custom incident action: the device from the incident title, the user who pressed the button, and a redelivery creates nothing new", async () => {
    const api = mockDexApi();
    const deliveries: string[] = [];
    // PagerDuty retries a delivery with the same X-Webhook-Id, whichever payload shape it sends.
    for (const body of [asEvent, asMessages]) {
      const headers = { "x-pagerduty-signature": await signPagerDuty(body, env.PAGERDUTY_ACTION_SECRET), "x-webhook-id": "wh-0001" };
      const { status, json, queued } = await action("?rule=warp-diag-on-demand", body, headers);
      expect(status).toBe(202);
      expect(json.requested_by).toBe("Priya Raman (PagerDuty)");
      expect(queued[0]!.alerts[0]!.target).toEqual({ user_email: JANE.personEmail });
      await runConsumer(queued);
      deliveries.push(json.delivery_id);
    }
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await deliveryRecord(deliveries[0]!))?.decisions).toEqual([expect.objectContaining({ outcome: "created" })]);
    expect((await deliveryRecord(deliveries[1]!))?.decisions).toEqual([expect.objectContaining({ outcome: "duplicate" })]);
  });

  it("refuses a device the directory does not vouch for, and sends nothing", async () => {
    const api = mockDexApi();
    const { json, queued } = await action("", workflowBody({ user_email: "contractor@example.net" }));
    await runConsumer(queued);
    expect(api.callsTo("create")).toHaveLength(0);
    expect((await deliveryRecord(json.delivery_id))?.decisions).toEqual([
      expect.objectContaining({ outcome: "device-not-found", reason: expect.stringContaining("no device connected in the last hour") }),
    ]);
  });

  it("holds the cooldown: a second press within it is refused as cooldown", async () => {
    const api = mockDexApi();
    const first = await action("", workflowBody());
    await runConsumer(first.queued);
    const second = await action("", workflowBody({ requested_by: "Sam Lee" }));
    await runConsumer(second.queued);
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await deliveryRecord(second.json.delivery_id))?.decisions).toEqual([expect.objectContaining({ outcome: "cooldown" })]);
  });

  it("answers 400 naming the field, and queues nothing", async () => {
    mockDexApi();
    const cases: Array<[string, string, RegExp]> = [
      ["", workflowBody({ rule: "" }), /^rule: name the rule to run/],
      ["?rule=pcap-on-demand", workflowBody(), /^rule: the query string and the body give two different values$/],
      ["", workflowBody({ rule: "warp-diag-on-critical" }), /^rule: warp-diag-on-critical does not allow captures on demand/],
      ["", workflowBody({ user_email: "not-an-email" }), /^target\.user_email: /],
      ["", workflowBody({ incident_id: "Q1;DROP" }), /^incident\.id: /],
      ["", "[]", /^body must be a JSON object$/],
      ["?rule=pcap-on-demand", asEvent, /^target: name the device/],
    ];
    for (const [query, body, error] of cases) {
      const { status, json, queued } = await action(query, body);
      expect(status, `${query} ${body}`).toBe(400);
      expect(json.error).toMatch(error);
      expect(queued).toEqual([]);
    }
  });

  it("refuses a request without the action's secret with the one 401, and queues nothing", async () => {
    mockDexApi();
    const refused: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong" },
      { "x-pagerduty-signature": await signPagerDuty(workflowBody(), "wrong"), ...BEARER },
    ];
    for (const headers of refused) {
      const { status, json, queued } = await action("", workflowBody(), headers);
      expect(status).toBe(401);
      expect(json).toEqual({ error: "unauthorized" });
      expect(queued).toEqual([]);
    }
  });
});
