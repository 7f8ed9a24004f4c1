import { describe, expect, it } from "vitest";
import releaseOneMessage from "../../test/fixtures/release-0.1.0/queue-message.json";
import { readDeliveryMessage } from "./delivery-message";

const current = { ...releaseOneMessage, version: 2 };

describe("the queue message", () => {
  it("reads a continuation, which names the alerts still to plan", () => {
    expect(readDeliveryMessage({ ...current, pending: [0] })).toEqual({ success: true, data: { ...current, pending: [0] } });
  });

  it("refuses a continuation that names an alert the delivery does not have, or none", () => {
    expect(readDeliveryMessage({ ...current, pending: [current.alerts.length] })).toEqual({ success: false, error: "pending: names an alert the delivery does not have" });
    expect(readDeliveryMessage({ ...current, pending: [] }).success).toBe(false);
    expect(readDeliveryMessage({ ...current, pending: [-1] }).success).toBe(false);
  });

  it("still reads release 0.1.0's message, without a version, as the whole delivery", () => {
    const read = readDeliveryMessage(releaseOneMessage);
    expect(read).toEqual({ success: true, data: current });
  });
});
