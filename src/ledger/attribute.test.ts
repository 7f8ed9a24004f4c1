import { describe, expect, it } from "vitest";
import type { ListedCommand } from "../model/dex-api";
import { attributeLanded, type Unconfirmed } from "./attribute";

const sentAt = Date.parse("2026-11-25T12:00:00Z");
const unconfirmed = (key: string, overrides: Partial<Unconfirmed> = {}): Unconfirmed => ({
  key,
  device_id: "d-1",
  user_email: "jane.doe@example.com",
  type: "pcap",
  first_sent_at: sentAt,
  last_sent_at: sentAt,
  ...overrides,
});
const listed = (id: string, createdMsAfterSend: number, overrides: Partial<ListedCommand> = {}): ListedCommand => ({
  id,
  device_id: "d-1",
  user_email: "jane.doe@example.com",
  type: "pcap",
  status: "PENDING_EXEC",
  created_date: new Date(sentAt + createdMsAfterSend).toISOString(),
  ...overrides,
});

describe("attributeLanded", () => {
  it("finds a command created while the create was in flight", () => {
    expect(attributeLanded([unconfirmed("k")], [listed("c-1", 800)], new Set())).toEqual(new Map([["k", "c-1"]]));
  });

  it("never gives one command to two keys, nor one the ledger already holds", () => {
    const found = attributeLanded([unconfirmed("a"), unconfirmed("b")], [listed("c-1", 100), listed("c-2", 200)], new Set(["c-1"]));
    expect(found).toEqual(new Map([["a", "c-2"]]));
  });

  it("ignores a command created minutes before the send, or well after it", () => {
    expect(attributeLanded([unconfirmed("k")], [listed("early", -120_000), listed("late", 120_000)], new Set())).toEqual(new Map());
  });

  it("ignores another device, type, user or registration", () => {
    const others = [
      listed("other-device", 100, { device_id: "d-2" }),
      listed("other-type", 100, { type: "warp-diag" }),
      listed("other-user", 100, { user_email: "sam.lee@example.com" }),
      listed("other-registration", 100, { registration_id: "r-2" }),
    ];
    expect(attributeLanded([unconfirmed("k", { registration_id: "r-1" })], others, new Set())).toEqual(new Map());
  });

  it("ignores a listed command without a creation date: nothing says it is ours", () => {
    expect(attributeLanded([unconfirmed("k")], [listed("undated", 0, { created_date: null })], new Set())).toEqual(new Map());
  });
});
