import { describe, expect, it } from "vitest";
import type { NormalizedAlert } from "../model/alert";
import { Delivery } from "./delivery";
import { scheduleLookups } from "./lookup-wait";

const RECEIVED = "2026-11-25T09:00:00.000Z";
const at = (seconds: number) => new Date(Date.parse(RECEIVED) + seconds * 1000);

function waitingDelivery(wait: { seconds: number; calls: number }, receivedAt = RECEIVED) {
  const alert: NormalizedAlert = {
    source: "alertmanager",
    episode: "e-1",
    title: "t",
    firing: true,
    status: "firing",
    labels: {},
    target: { hostname: "JANE-MBP" },
  };
  const delivery = new Delivery(
    { version: 2, delivery_id: "d-1", source: "alertmanager", received_at: receivedAt, alerts: [alert, { ...alert, episode: "e-2" }] },
    { id: "m-1", attempts: 1, ack() {}, retry() {} },
  );
  delivery.waitForBudget(1, [{ alert: 1, episode: "e-2", outcome: "waiting", reason: "waits", rule: "r" }], wait);
  return delivery;
}

describe("lookups waiting for the API budget", () => {
  it("come back when the budget has refilled for them, a full bucket at most, in a continuation naming their alerts", () => {
    const delivery = waitingDelivery({ seconds: 1, calls: 150 });
    const next = scheduleLookups(delivery, at(5));
    // 100 calls at 3 a second.
    expect(next).toEqual({ delaySeconds: 34, body: expect.objectContaining({ delivery_id: "d-1", pending: [1] }) });
    expect(delivery.decisions[0]).toMatchObject({
      outcome: "waiting",
      reason: `its device lookup waits for room in the DEX API budget; looked up again at ${at(39).toISOString()}`,
    });
  });

  it("wait at least what the budget said, and come back no later than the capture is useful", () => {
    expect(scheduleLookups(waitingDelivery({ seconds: 300, calls: 2 }), at(5))?.delaySeconds).toBe(300);
    expect(scheduleLookups(waitingDelivery({ seconds: 1, calls: 90 }), at(590))?.delaySeconds).toBe(10);
  });

  it("expire once the budget cannot pay for them within ten minutes of the alert, saying so", () => {
    const delivery = waitingDelivery({ seconds: 120, calls: 3 });
    expect(scheduleLookups(delivery, at(481))).toBeUndefined();
    expect(delivery.decisions[0]).toMatchObject({ outcome: "expired", reason: expect.stringContaining("within 10 minutes of the alert") });
    expect(delivery.budgetWait).toBeUndefined();
  });

  it("expire when the delivery's received_at cannot be read, rather than wait without end", () => {
    const delivery = waitingDelivery({ seconds: 1, calls: 1 }, "yesterday");
    expect(scheduleLookups(delivery, at(0))).toBeUndefined();
    expect(delivery.decisions[0]).toMatchObject({ outcome: "expired", reason: expect.stringContaining("within 10 minutes of the alert") });
  });

  it("leave a delivery with nothing waiting alone", () => {
    const delivery = new Delivery(
      { version: 2, delivery_id: "d-2", source: "zapier", received_at: RECEIVED, alerts: [] },
      { id: "m", attempts: 1, ack() {}, retry() {} },
    );
    expect(scheduleLookups(delivery, at(0))).toBeUndefined();
  });
});
