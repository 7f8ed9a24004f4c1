import type { LedgerSettings } from "../config/ledger-settings";
import type { LedgerCommand, LedgerResult } from "../ledger/contract";
import type { ReleaseOneLimits } from "../ledger/ledger-settings";
import { cooldownKey, idempotencyKey } from "../ledger/keys";
import type { Decision } from "../model/decision";
import { severityRank } from "../model/alert";
import { deviceFields, type PlannedCommand } from "./plan";
import { presentFields } from "../model/present-fields";

/** What the consumer needs of the command ledger. */
export interface Ledger {
  submit(commands: LedgerCommand[], settings: LedgerSettings & ReleaseOneLimits): Promise<LedgerResult[]>;
  preview(commands: LedgerCommand[]): Promise<LedgerResult[]> | LedgerResult[];
}

/**
 * Hands every planned command of a batch to the command ledger in one call, and records
 * its answer for each as the command's decision. The ledger claims, sends, reconciles and
 * retries; the consumer only reports.
 */
export async function submitPlanned(planned: readonly PlannedCommand[], ledger: Pick<Ledger, "submit">, settings: LedgerSettings): Promise<void> {
  if (planned.length === 0) return;
  // `maxCommandsPerMinute` on its own too: where a ledger of release 0.1.0 reads the cap (a
  // rollback rolling out), so that it neither fails nor loses the cap.
  const results = await ledger.submit(await Promise.all(planned.map(ledgerCommand)), { ...settings, maxCommandsPerMinute: settings.dex.maxCommandsPerMinute });
  planned.forEach((command, i) => command.delivery.decide(decisionFor(command, results[i]!)));
}

/** What the ledger would answer, for a dry run: nothing is claimed or sent. */
export async function previewPlanned(planned: readonly PlannedCommand[], ledger: Pick<Ledger, "preview">): Promise<void> {
  if (planned.length === 0) return;
  const results = await ledger.preview(await Promise.all(planned.map(ledgerCommand)));
  planned.forEach((command, i) => command.delivery.decide(decisionFor(command, results[i]!)));
}

async function ledgerCommand(planned: PlannedCommand): Promise<LedgerCommand> {
  const { rule, device, source } = planned;
  const identity = { rule: rule.name, device_id: device.device_id, type: rule.command.type };
  return {
    key: await idempotencyKey({ ...identity, episode: source.episode }),
    cooldown_key: await cooldownKey(identity),
    cooldown_minutes: rule.cooldown_minutes ?? 0,
    delivery_id: planned.delivery.id,
    received_at: planned.delivery.body.received_at,
    source: source.source,
    alert: planned.alert,
    episode: source.episode,
    rule: rule.name,
    severity_rank: severityRank(source.severity),
    command: planned.command,
    ...presentFields({ device_name: device.name, requested_by: source.request?.requested_by }),
    report: { title: source.title, ...presentFields({ incident_id: source.refs?.incident_id, notify: rule.notify }) },
    ...presentFields({ approval: rule.approval }),
  };
}

function decisionFor(planned: PlannedCommand, result: LedgerResult): Decision {
  return {
    alert: planned.alert,
    episode: planned.source.episode,
    outcome: result.outcome,
    reason: result.reason,
    rule: planned.rule.name,
    type: planned.command.type,
    args: planned.command.args,
    ...deviceFields(planned.device),
    ...presentFields({ command_id: result.command_id }),
    key: result.key,
  };
}
