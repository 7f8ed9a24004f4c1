import type { LedgerCommand, LedgerResult } from "./contract";
import type { CommandRow } from "./command-rows";

/** What a row says to the delivery that owns it. */
export function ownResult(row: CommandRow): LedgerResult {
  const base = { key: row.key, ...(row.command_id ? { command_id: row.command_id } : {}) };
  switch (row.state) {
    case "created":
      return { ...base, outcome: "created", reason: row.reason ?? "command created" };
    case "failed":
      return { ...base, outcome: "failed", reason: row.reason ?? "the DEX API refused the command" };
    case "expired":
      return { ...base, outcome: "expired", reason: row.reason ?? "the per-minute command cap never had room for it while the capture was useful" };
    case "waiting":
      return row.admitted_at === null
        ? { ...base, outcome: "waiting", reason: row.reason ?? "held by MAX_COMMANDS_PER_MINUTE until the next free slot" }
        : { ...base, outcome: "retrying", reason: row.reason ?? "waiting for the DEX API's rate limit" };
    case "sending":
      return { ...base, outcome: "retrying", reason: "its create is being sent" };
    case "uncertain":
      return { ...base, outcome: "retrying", reason: row.reason ?? "the DEX API failed; the ledger checks and retries" };
    case "awaiting-approval":
      return {
        ...base,
        outcome: "awaiting-approval",
        reason: `waits for a person to approve it (Slack or the console) until ${new Date(row.approval_expires_at ?? 0).toISOString()}; nothing is sent before`,
      };
    case "denied":
      return { ...base, outcome: "denied", reason: row.reason ?? "denied; never sent" };
    case "approval-expired":
      return { ...base, outcome: "expired", reason: row.reason ?? "nobody approved it in time; never sent" };
  }
}

/** What a row says to a delivery that asks for the same key: the same episode again. */
export function answerFor(row: CommandRow, asking: Pick<LedgerCommand, "delivery_id" | "alert">): LedgerResult {
  // The same alert of the same delivery: a queue redelivery of work the ledger already holds.
  if (row.delivery_id === asking.delivery_id && row.alert === asking.alert) return ownResult(row);
  const by = row.delivery_id === asking.delivery_id ? "an earlier alert of this delivery" : `delivery ${row.delivery_id}`;
  const base = { key: row.key, outcome: "duplicate" as const };
  switch (row.state) {
    case "created":
      return { ...base, command_id: row.command_id!, reason: `this alert episode already created command ${row.command_id} (${by})` };
    case "failed":
    case "expired":
    case "denied":
    case "approval-expired":
      return { ...base, reason: `this alert episode already ended without a command (${by}): ${row.reason}` };
    case "awaiting-approval":
      return { ...base, reason: `this alert episode's command already awaits approval (${by})` };
    default:
      return { ...base, reason: `this alert episode's command is already on its way (${by})` };
  }
}

/** A command of the same rule and type went to the device recently. */
export function cooldownAnswer(cooling: CommandRow, asking: LedgerCommand): LedgerResult {
  const until = new Date(cooling.cooldown_until ?? 0).toISOString();
  return {
    key: asking.key,
    outcome: "cooldown",
    reason:
      cooling.state === "awaiting-approval"
        ? `rule ${asking.rule} already awaits approval for ${asking.command.type} on this device (delivery ${cooling.delivery_id}); no second request while it waits`
        : cooling.command_id
          ? `rule ${asking.rule} sent ${asking.command.type} to this device recently (command ${cooling.command_id}); cooldown until ${until}`
          : `rule ${asking.rule} is already sending ${asking.command.type} to this device; cooldown until ${until}`,
    ...(cooling.command_id ? { command_id: cooling.command_id } : {}),
  };
}
