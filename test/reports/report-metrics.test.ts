import { beforeEach, describe, expect, it } from "vitest";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { flushIngestCounts, scrape } from "../helpers/metrics";
import { PAGERDUTY_API, postIncident, reportsSettled, RESULT_WEBHOOK, SLACK_HOOK, runReportingConsumer } from "../helpers/reports";
import { isolateEachTest, rulesSentAtOnce } from "../helpers/relay";

const INCIDENT = "Q2Y4RWZ6E8METRC";

isolateEachTest();
beforeEach(holdLedgerClock);
beforeEach(flushIngestCounts);

describe("dex_relay_reports_total", () => {
  it("counts each attempt by channel and result: sent, retried (a 5xx) and failed for good (a 4xx)", async () => {
    mockDexApi([JANE, SAM], {
      [`POST ${PAGERDUTY_API}/incidents/${INCIDENT}/notes`]: () => Response.json({ note: { id: "PWL7QXS" } }, { status: 201 }),
      [`POST ${SLACK_HOOK}`]: () => new Response("down", { status: 503 }),
      [`POST ${RESULT_WEBHOOK}`]: () => new Response("no", { status: 410 }),
    });
    const before = await scrape();
    const { status, queued } = await postIncident(INCIDENT, "VPN packet loss above 8% for jane.doe@example.com");
    expect(status).toBe(202);
    // The shipped rules less their approvals: the incident hears of the start alone.
    await runReportingConsumer(queued, 1, { RULES: rulesSentAtOnce() });
    await runLedgerAlarm();
    await reportsSettled();

    const after = await scrape();
    const moved = (channel: string, result: string) =>
      (after.value("dex_relay_reports_total", { channel, result }) ?? 0) - (before.value("dex_relay_reports_total", { channel, result }) ?? 0);
    expect(moved("incident", "sent")).toBe(1);
    expect(moved("slack", "retried")).toBe(1);
    expect(moved("slack", "sent")).toBe(0);
    expect(moved("webhook", "failed")).toBe(2);
    expect(after.value("dex_relay_reports_pending")).toBe(1);
  }, 20_000);
});
