import { describe, expect, it } from "vitest";
import type { NormalizedAlert } from "./alert";
import releaseOneMessage from "../../test/fixtures/release-0.1.0/queue-message.json";
import { messageVersionOf, readDeliveryMessage } from "./delivery-message";

const alert: NormalizedAlert = {
  source: "zapier",
  episode: "zapier:t-1",
  title: "Packet loss",
  firing: true,
  status: "firing",
  labels: {},
  target: { user_email: "jane.doe@example.com" },
};
const request: NormalizedAlert = {
  ...alert,
  source: "operator",
  episode: "operator:d-1",
  status: "requested",
  request: { rule: "warp-diag-on-demand", requested_by: "admin token", via: "api" },
};
const message = (version: number, alerts: NormalizedAlert[]) => ({
  version,
  delivery_id: "d-1",
  source: alerts[0]!.source,
  received_at: "2026-11-25T09:00:00Z",
  alerts,
});

describe("queue message versions", () => {
  it("writes a capture on demand as version 3 and every other delivery as version 2", () => {
    expect(messageVersionOf([alert])).toBe(2);
    expect(messageVersionOf([request])).toBe(3);
  });

  it("reads a version 3 request with who asked", () => {
    const read = readDeliveryMessage(message(3, [request]));
    expect(read).toEqual({ success: true, data: message(3, [request]) });
  });

  it("refuses a request under a version that cannot carry one: a release reading only version 2 would take it for an alert", () => {
    expect(readDeliveryMessage(message(2, [request]))).toEqual({ success: false, error: "a version 2 message carries no capture request" });
    const { version: _, ...unversioned } = message(1, [request]);
    expect(readDeliveryMessage(unversioned)).toMatchObject({ success: false });
  });

  it("still reads versions 1 and 2, and refuses a version it does not know", () => {
    const { version: _, ...unversioned } = message(1, [alert]);
    expect(readDeliveryMessage(unversioned)).toMatchObject({ success: true, data: { version: 2 } });
    expect(readDeliveryMessage(message(2, [alert]))).toMatchObject({ success: true, data: { version: 2 } });
    expect(readDeliveryMessage(message(4, [alert]))).toEqual({ success: false, error: "message version 4 is not one this release reads (it reads 1, 2, 3)" });
  });
});

const current = { ...releaseOneMessage, version: 2 };

describe("the queue message", () => {
  it("reads a continuation, which names the alerts still to plan", () => {
    expect(readDeliveryMessage({ ...current, pending: [0] })).toEqual({ success: true, data: { ...current, pending: [0] } });
  });

  it("refuses a continuation that names an alert the delivery does not have, or none", () => {
    expect(readDeliveryMessage({ ...current, pending: [current.alerts.length] })).toEqual({
      success: false,
      error: "message is malformed: pending: names an alert the delivery does not have",
    });
    expect(readDeliveryMessage({ ...current, pending: [] }).success).toBe(false);
    expect(readDeliveryMessage({ ...current, pending: [-1] }).success).toBe(false);
  });

  it("still reads release 0.1.0's message, without a version, as the whole delivery", () => {
    const read = readDeliveryMessage(releaseOneMessage);
    expect(read).toEqual({ success: true, data: current });
  });
});
