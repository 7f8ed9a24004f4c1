import type { DeliveryView, LedgerEntry, ReportEntry } from "../ledger/contract";
import type { ApprovalView } from "../model/approval";
import type { Decision } from "../model/decision";
import type { DeliveryRecord, DeliveryState } from "../record/delivery-record";

/** A command as the audit trail shows it: the ledger's view, with its DEX status. */
export interface CommandView {
  command_id: string;
  device_id: string;
  device_name?: string;
  type: string;
  rule: string;
  status?: string;
  filename: string | null;
  completed_date: string | null;
  approval?: ApprovalView;
}

/** A decision brought up to date: with its command's approval, when its rule wants one (who decided, how, when). */
export type DecisionView = Decision & { approval?: ApprovalView };

/**
 * The delivery record as it stands now. The record was written when the consumer handed
 * the commands to the command ledger; what the ledger did since (a retry that created the
 * command, a capped command that got its slot) replaces the decisions it owns, and every
 * command the delivery created or found comes with its current DEX status, and every
 * report back about them with whether it was delivered.
 */
export function withLedger(
  record: DeliveryRecord,
  { commands: entries, reports }: DeliveryView,
): Omit<DeliveryRecord, "decisions"> & { decisions: DecisionView[]; commands: CommandView[]; reports: ReportEntry[] } {
  const owned = entries.filter((entry) => entry.delivery_id === record.id);
  const decisions = record.decisions.map((decision): DecisionView => {
    const entry = owned.find((e) => sameCommand(e, decision));
    if (!entry || decision.outcome === "duplicate" || decision.outcome === "cooldown") return decision;
    const { command_id, ...rest } = decision;
    return {
      ...rest,
      outcome: entry.outcome,
      reason: entry.reason,
      ...(entry.command_id ? { command_id: entry.command_id } : command_id ? { command_id } : {}),
      ...(entry.approval ? { approval: entry.approval } : {}),
    };
  });
  const referenced = new Set(decisions.flatMap((d) => (d.command_id ? [d.command_id] : [])));
  const commands = entries
    .filter((entry) => entry.command_id && referenced.has(entry.command_id))
    .map((entry) => ({
      command_id: entry.command_id!,
      device_id: entry.device_id,
      ...(entry.device_name ? { device_name: entry.device_name } : {}),
      type: entry.type,
      rule: entry.rule,
      status: entry.status,
      filename: entry.filename ?? null,
      completed_date: entry.completed_date ?? null,
      ...(entry.approval ? { approval: entry.approval } : {}),
    }));
  return { ...record, state: stateOf(record.state, decisions), decisions, commands, reports };
}

/** The ledger's entry of a decision: by its key; a decision recorded without one (release 0.1.0) by what it names. */
function sameCommand(entry: LedgerEntry, decision: Decision): boolean {
  if (decision.key) return entry.key === decision.key;
  return entry.alert === decision.alert && entry.rule === decision.rule && entry.type === decision.type && entry.device_id === decision.device_id;
}

/** An acknowledged delivery is done once the ledger has settled every command it owns. */
function stateOf(recorded: DeliveryState, decisions: readonly Decision[]): DeliveryState {
  if (recorded !== "in-progress") return recorded;
  return decisions.some((d) => d.outcome === "retrying" || d.outcome === "waiting" || d.outcome === "awaiting-approval") ? "in-progress" : "done";
}
