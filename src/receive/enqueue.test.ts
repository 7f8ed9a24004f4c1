import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../model/delivery-message";
import { fitsTheQueue, MAX_MESSAGE_BYTES, splitDelivery } from "./enqueue";

function delivery(alerts: number, labelBytes: number): DeliveryMessage {
  return {
    version: 2,
    delivery_id: "d-1",
    source: "alertmanager",
    received_at: "2026-11-25T12:00:00Z",
    alerts: Array.from({ length: alerts }, (_, i) => ({
      source: "alertmanager",
      episode: `alertmanager:fp${i}:2026-11-25T11:00:00Z`,
      title: `Packet loss on host-${i}`,
      firing: true,
      status: "firing",
      labels: { note: "x".repeat(labelBytes) },
      target: { hostname: `host-${i}` },
    })),
  };
}

describe("splitDelivery", () => {
  it("keeps a delivery that fits as one message", () => {
    const message = delivery(10, 100);
    expect(splitDelivery(message)).toEqual([message]);
  });

  it("splits a large group into parts of whole alerts, each under the limit, losing none", () => {
    const message = delivery(600, 900);
    const parts = splitDelivery(message);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.delivery_id)).toEqual(["d-1", ...parts.slice(1).map((_, i) => `d-1.${i + 2}`)]);
    for (const part of parts) expect(new TextEncoder().encode(JSON.stringify(part)).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(parts.flatMap((p) => p.alerts)).toEqual(message.alerts);
    expect(fitsTheQueue(parts)).toBe(true);
  });

  it("says when one alert alone is too large for any message", () => {
    const parts = splitDelivery(delivery(2, MAX_MESSAGE_BYTES));
    expect(parts).toHaveLength(2);
    expect(fitsTheQueue(parts)).toBe(false);
  });
});
