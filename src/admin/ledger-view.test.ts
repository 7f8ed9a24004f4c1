import { describe, expect, it } from "vitest";
import type { LedgerEntry } from "../ledger/contract";
import type { Decision } from "../model/decision";
import type { DeliveryRecord } from "../record/delivery-record";
import { withLedger } from "./ledger-view";

const DELIVERY = "6f1c2a4e-3b7d-4e21-9a0c-5d8e7f6a1b2c";

function entry(overrides: Partial<LedgerEntry>): LedgerEntry {
  return {
    key: "key-a",
    outcome: "created",
    reason: "command created",
    command_id: "cmd-a",
    delivery_id: DELIVERY,
    alert: 0,
    rule: "warp-diag-on-critical",
    type: "warp-diag",
    device_id: "device-1",
    attempts: 1,
    ...overrides,
  };
}

function record(decisions: Decision[]): DeliveryRecord {
  return {
    id: DELIVERY,
    source: "alertmanager",
    received_at: "2026-12-04T09:00:00.000Z",
    updated_at: "2026-12-04T09:00:01.000Z",
    attempts: 1,
    state: "in-progress",
    alerts: [{ episode: "alertmanager:a", title: "Packet loss", status: "firing", firing: true }],
    decisions,
  };
}

const waiting: Decision = {
  alert: 0,
  episode: "alertmanager:a",
  outcome: "retrying",
  reason: "the create failed",
  rule: "warp-diag-on-critical",
  type: "warp-diag",
  device_id: "device-1",
};

describe("the audit trail's join of decisions and the ledger", () => {
  it("takes a decision's command by the ledger key it carries, even where another entry names the same alert, rule, type and device", () => {
    const entries = [entry({ key: "key-a", command_id: "cmd-a" }), entry({ key: "key-b", command_id: "cmd-b" })];
    const view = withLedger(record([{ ...waiting, key: "key-b" }]), { commands: entries, reports: [] });
    expect(view.decisions).toEqual([expect.objectContaining({ key: "key-b", outcome: "created", command_id: "cmd-b" })]);
    expect(view.commands.map((command) => command.command_id)).toEqual(["cmd-b"]);
    expect(view.state).toBe("done");
  });

  it("leaves a decision whose key the ledger does not hold as it was recorded", () => {
    const view = withLedger(record([{ ...waiting, key: "key-gone" }]), { commands: [entry({})], reports: [] });
    expect(view.decisions).toEqual([expect.objectContaining({ outcome: "retrying", reason: "the create failed" })]);
  });

  it("joins a decision recorded without a key (release 0.1.0) by the alert, rule, type and device it names", () => {
    const view = withLedger(record([waiting]), { commands: [entry({})], reports: [] });
    expect(view.decisions).toEqual([expect.objectContaining({ outcome: "created", command_id: "cmd-a" })]);
  });
});
