import { describe, expect, it } from "vitest";
import type { Decision } from "../model/decision";
import { deliveryIdOfIndexKey, deliveryIndexKey, indexEntryOf, readIndexEntry, receivedAtOfIndexKey } from "./delivery-index";
import type { DeliveryRecord } from "./delivery-record";

function record(decisions: Decision[], receivedAt = "2026-11-25T10:00:00.000Z"): DeliveryRecord {
  return { id: "d-1", source: "zapier", received_at: receivedAt, updated_at: receivedAt, attempts: 1, state: "done", alerts: [], decisions };
}

describe("delivery index", () => {
  it("names keys so that the newest delivery sorts first, and reads the time back", () => {
    const older = deliveryIndexKey("2026-11-25T10:00:00.000Z", "b");
    const newer = deliveryIndexKey("2026-11-25T10:00:00.001Z", "a");
    expect([older, newer].sort()).toEqual([newer, older]);
    expect(receivedAtOfIndexKey(newer)).toBe(Date.parse("2026-11-25T10:00:00.001Z"));
    expect(deliveryIdOfIndexKey(newer)).toBe("a");
  });

  it("reads release 0.1.0's entry and its own, and says why it cannot read a newer one", () => {
    const { version, ...unversioned } = indexEntryOf(record([]));
    expect(version).toBe(2);
    expect(readIndexEntry(unversioned)).toEqual({ success: true, data: unversioned });
    expect(readIndexEntry({ version, ...unversioned })).toEqual({ success: true, data: unversioned });
    expect(readIndexEntry({ ...unversioned, version: 3 })).toEqual({
      success: false,
      error: "delivery index entry version 3 is not one this release reads (it reads 1, 2)",
    });
    expect(readIndexEntry(null)).toMatchObject({ success: false, error: expect.stringContaining("malformed") });
  });

  it("keeps outcomes and device ids once each", () => {
    const decision = (outcome: Decision["outcome"], device_id?: string): Decision => ({
      alert: 0,
      episode: "e",
      outcome,
      reason: "r",
      ...(device_id ? { device_id } : {}),
    });
    const entry = indexEntryOf(record([decision("created", "d1"), decision("created", "d1"), decision("no-rule")]));
    expect(entry).toEqual({
      version: 2,
      id: "d-1",
      source: "zapier",
      state: "done",
      received_at: "2026-11-25T10:00:00.000Z",
      outcomes: ["created", "no-rule"],
      devices: ["d1"],
    });
  });

  it("stays under KV's 1024-byte metadata limit however many devices a delivery names, and says when it left some out", () => {
    const decisions = Array.from(
      { length: 200 },
      (_, i): Decision => ({ alert: i, episode: "e", outcome: "created", reason: "r", device_id: crypto.randomUUID() }),
    );
    const entry = indexEntryOf(record(decisions));
    expect(new TextEncoder().encode(JSON.stringify(entry)).length).toBeLessThan(1024);
    expect(entry.devices_truncated).toBe(true);
    expect(entry.devices.length).toBeGreaterThan(5);
  });
});
