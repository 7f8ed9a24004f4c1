import { presentFields } from "../model/present-fields";
import type { ReportedCommand } from "../report/compose";
import { approvalOf } from "./approvals";
import { commandOf, reportOf, type CommandRow } from "./command-rows";
import type { LedgerEntry, MadeCommand } from "./contract";
import { ownResult } from "./outcomes";

/** A created command as the reports speak of it. */
export function reported(row: CommandRow, now: number): ReportedCommand {
  const command = commandOf(row);
  const report = reportOf(row);
  return {
    command_id: row.command_id!,
    type: command.type,
    status: row.status ?? "PENDING_EXEC",
    device_id: command.device_id,
    user_email: command.user_email,
    rule: row.rule,
    delivery_id: row.delivery_id,
    source: row.source,
    alert_title: report.title,
    ...presentFields({
      device_name: row.device_name,
      requested_by: row.requested_by,
      incident_id: report.incident_id,
      notify: report.notify,
      completed_date: row.completed_date,
      filename: row.filename,
      approval: approvalOf(row),
    }),
    at: new Date(now).toISOString(),
  };
}

/** A command as the audit trail shows it. */
export function entryOf(row: CommandRow): LedgerEntry {
  const command = commandOf(row);
  return {
    ...ownResult(row),
    delivery_id: row.delivery_id,
    alert: row.alert,
    rule: row.rule,
    type: command.type,
    device_id: command.device_id,
    attempts: row.attempts,
    ...presentFields({
      device_name: row.device_name,
      requested_by: row.requested_by,
      status: row.status,
      filename: row.filename,
      completed_date: row.completed_date,
      approval: approvalOf(row),
    }),
    ...(row.created_at ? { created_at: new Date(row.created_at).toISOString() } : {}),
  };
}

/** The file a finished command left, for the download route. */
export interface CommandFile {
  filename: string;
  type: string;
}

/** The file `row` left; undefined until there is one. */
export function fileOfRow(row: CommandRow | undefined): CommandFile | undefined {
  return row?.filename ? { filename: row.filename, type: commandOf(row).type } : undefined;
}

/** A created command as a request to run it again names it (Slack's "Capture again"); undefined until it was created. */
export function madeCommandOf(row: CommandRow | undefined): MadeCommand | undefined {
  if (!row?.command_id) return undefined;
  const { type, device_id, user_email, registration_id } = commandOf(row);
  const report = reportOf(row);
  const incident = report.incident_id ? { incident: { id: report.incident_id, title: report.title } } : {};
  return { rule: row.rule, type, target: { device_id, user_email, ...presentFields({ registration_id }) }, ...incident };
}
