import { beforeEach, describe, expect, it } from "vitest";
import { mockDexApi, SAM } from "../helpers/dex-api-mock";
import { currentDelivery, holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { isolateEachTest, postZapier, runConsumer } from "../helpers/relay";

isolateEachTest();
beforeEach(holdLedgerClock);

describe("reports with no channel configured", () => {
  it("writes and sends nothing, and the capture goes on as before", async () => {
    // The fetch spy fails on any request it was not built for: a report would be one.
    const api = mockDexApi();
    const { json, queued } = await postZapier({ id: "QUIET-1", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    await runConsumer(queued);
    api.settle(api.commands[0]!.id, "SUCCESS");
    await runLedgerAlarm();
    const delivery = await currentDelivery(json.delivery_id);
    expect(delivery.reports).toEqual([]);
    expect(delivery.commands).toEqual([expect.objectContaining({ status: "SUCCESS" })]);
    expect(api.otherCalls).toEqual([]);
  });
});
