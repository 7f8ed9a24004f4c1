import { describe, expect, it } from "vitest";
import { compileRules } from "../../test/helpers/fakes";
import { handedSettings } from "../../test/helpers/ledger";
import type { LedgerSettings } from "../config/ledger-settings";
import type { LedgerCommand, LedgerResult } from "../ledger/contract";
import { cooldownKey, idempotencyKey } from "../ledger/keys";
import { Delivery } from "./delivery";
import { previewPlanned, submitPlanned } from "./execute";
import type { PlannedCommand } from "./plan";

const [rule] = compileRules([{ name: "pcap-on-loss", cooldown_minutes: 15, command: { type: "pcap", args: { "time-limit-min": 2 } } }], ["zapier"]);

function planned(deliveryId: string, severity: "critical" | "warning" | undefined): PlannedCommand {
  const delivery = new Delivery(
    { version: 2, delivery_id: deliveryId, source: "zapier", received_at: "2026-11-25T09:00:00Z", alerts: [] },
    { id: deliveryId, attempts: 1, ack() {}, retry() {} },
  );
  const device = { device_id: "d-jane", user_email: "jane.doe@example.com", registration_id: "r-jane", name: "JANE-MBP" };
  return {
    delivery,
    alert: 0,
    source: { source: "zapier", episode: `zapier:${deliveryId}`, title: "Packet loss", severity, firing: true, status: "firing", labels: {}, target: {} },
    rule: rule!,
    device,
    command: {
      type: "pcap",
      args: { "time-limit-min": 2 },
      device_id: device.device_id,
      user_email: device.user_email,
      registration_id: device.registration_id,
    },
  };
}

/** What the Worker hands the ledger: the test configuration's. */
const settings = () => handedSettings();

/** A ledger that answers as told and keeps what it was given. */
function fakeLedger(answer: (command: LedgerCommand) => Omit<LedgerResult, "key">) {
  const submitted: Array<{ commands: LedgerCommand[]; settings?: LedgerSettings }> = [];
  const respond = (commands: LedgerCommand[]) => commands.map((c) => ({ key: c.key, ...answer(c) }));
  return {
    submitted,
    async submit(commands: LedgerCommand[], settings: LedgerSettings) {
      submitted.push({ commands, settings });
      return respond(commands);
    },
    preview(commands: LedgerCommand[]) {
      submitted.push({ commands });
      return respond(commands);
    },
  };
}

describe("submitPlanned", () => {
  it("hands every command of the batch to the ledger in one call, keyed on the resolved device", async () => {
    const ledger = fakeLedger(() => ({ outcome: "created", reason: "command created", command_id: "c-1" }));
    const commands = [planned("d-1", "critical"), planned("d-2", "warning")];
    await submitPlanned(commands, ledger, settings());
    expect(ledger.submitted).toHaveLength(1);
    const [first, second] = ledger.submitted[0]!.commands;
    // The settings, and the cap where a ledger of release 0.1.0 reads it.
    expect(ledger.submitted[0]!.settings).toEqual({ ...settings(), maxCommandsPerMinute: settings().dex.maxCommandsPerMinute });
    expect(first).toMatchObject({
      key: await idempotencyKey({ episode: "zapier:d-1", rule: "pcap-on-loss", device_id: "d-jane", type: "pcap" }),
      cooldown_key: await cooldownKey({ rule: "pcap-on-loss", device_id: "d-jane", type: "pcap" }),
      cooldown_minutes: 15,
      delivery_id: "d-1",
      severity_rank: 0,
      device_name: "JANE-MBP",
    });
    expect(second?.severity_rank).toBe(2);
    // The same device for two rules' worth of alerts shares one cooldown key, whatever the episode.
    expect(second?.cooldown_key).toBe(first?.cooldown_key);
    expect(second?.key).not.toBe(first?.key);
  });

  it("records the ledger's answer as each command's decision, in its own delivery", async () => {
    const ledger = fakeLedger((c) =>
      c.delivery_id === "d-1"
        ? { outcome: "created", reason: "command created", command_id: "c-1" }
        : { outcome: "waiting", reason: "held by MAX_COMMANDS_PER_MINUTE" },
    );
    const commands = [planned("d-1", "critical"), planned("d-2", undefined)];
    await submitPlanned(commands, ledger, settings());
    expect(commands[0]!.delivery.decisions).toEqual([
      expect.objectContaining({ outcome: "created", command_id: "c-1", rule: "pcap-on-loss", device_id: "d-jane", registration_id: "r-jane" }),
    ]);
    expect(commands[1]!.delivery.decisions).toEqual([expect.objectContaining({ outcome: "waiting" })]);
    expect(commands[1]!.delivery.decisions[0]).not.toHaveProperty("command_id");
  });

  it("asks nothing of the ledger when nothing was planned", async () => {
    const ledger = fakeLedger(() => ({ outcome: "created", reason: "" }));
    await submitPlanned([], ledger, settings());
    await previewPlanned([], ledger);
    expect(ledger.submitted).toEqual([]);
  });
});
