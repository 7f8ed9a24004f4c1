import { describe, expect, it } from "vitest";
import triggered from "../../src/sources/pagerduty/fixtures/incident.triggered.json";
import { mockDexApi, SAM } from "../helpers/dex-api-mock";
import { deliveryRecord, isolateEachTest, postPagerDuty, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/** Not about approval: the shipped rules with every command sent at once (approval has ./approvals.test.ts). */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

/** The fixture's incident, with a title that names no one. */
const incident = structuredClone(triggered);
incident.event.data.title = "Corporate VPN: packet loss above 8% in Berlin office";
// Dated now: the relay refuses PagerDuty events older than PagerDuty retries.
incident.event.occurred_at = new Date().toISOString();
const incidentId = incident.event.data.id;
const ALERTS_URL = `GET https://api.pagerduty.com/incidents/${incidentId}/alerts`;

const alertsResponse = () =>
  Response.json({
    alerts: [
      {
        id: "PALERT1",
        type: "alert",
        body: { type: "alert_body", details: { user_email: SAM.personEmail, check: "vpn_loss", loss_percent: "8.4" } },
      },
    ],
    limit: 1,
    more: false,
  });

isolateEachTest();

describe("PagerDuty incidents whose title names no device", () => {
  it("read the target from the incident's first alert when PAGERDUTY_API_TOKEN is set, asking once per incident", async () => {
    const api = mockDexApi(undefined, { [ALERTS_URL]: alertsResponse });
    const { status, queued } = await postPagerDuty(incident);
    expect(status).toBe(202);
    await runConsumer(queued, 1, { PAGERDUTY_API_TOKEN: "pd-rest-key" });

    // Both rules match the critical incident: one REST call serves both.
    expect(api.otherCalls).toHaveLength(1);
    expect(api.otherCalls[0]?.headers.get("authorization")).toBe("Token token=pd-rest-key");
    expect(api.commands.map((c) => [c.type, c.device_id])).toEqual([
      ["pcap", SAM.deviceId],
      ["warp-diag", SAM.deviceId],
    ]);
  });

  it("are recorded as device-not-found without the token, and nothing is fetched", async () => {
    const api = mockDexApi();
    const { queued } = await postPagerDuty(incident);
    await runConsumer(queued);
    expect(api.otherCalls).toEqual([]);
    const record = await deliveryRecord(queued[0]!.delivery_id);
    expect(record?.decisions.map((d: any) => d.outcome)).toEqual(["device-not-found", "device-not-found"]);
  });
});
