import type { ChannelSettings } from "../config/channels";
import { finishedReports, startedReports } from "../report/compose";
import type { ReportOutbox } from "../report/report-outbox";
import type { Approvals } from "./approvals";
import type { CommandRow, CommandRows } from "./command-rows";
import { reported } from "./row-views";

/**
 * Writes the reports owed: one "started" set per alert for commands just created, one
 * "finished" set per command that reached SUCCESS or FAILED, and those about approvals. Each
 * command is marked in the same synchronous step, so no report is ever written twice.
 */
export function queueReports(rows: CommandRows, approvals: Approvals, outbox: ReportOutbox, settings: ChannelSettings, now: number): void {
  rows.closeReporting();
  const byAlert = new Map<string, CommandRow[]>();
  for (const row of rows.unreportedStarts()) {
    const alert = `${row.delivery_id}\n${row.alert}`;
    byAlert.set(alert, [...(byAlert.get(alert) ?? []), row]);
  }
  for (const started of byAlert.values()) {
    for (const report of startedReports(
      started.map((row) => reported(row, now)),
      settings,
    ))
      outbox.write(report, started[0]!.delivery_id, now);
    for (const row of started) rows.update(row.key, { started_reported: 1 });
  }
  for (const row of rows.unreportedFinishes()) {
    for (const report of finishedReports(reported(row, now), settings)) outbox.write(report, row.delivery_id, now);
    rows.update(row.key, { finished_reported: 1 });
  }
  approvals.queueReports(outbox, settings, now);
}
