import type { ReportEntry } from "../model/report-entry";
import type { ColumnDeclaration, RowOf } from "../model/sql-table";
import type { OutgoingReport } from "./compose";

/**
 * Reports back to the incident, one row per message to one channel. A row is written in the
 * same synchronous step that marks its commands reported, so it exists once however often a
 * consumer or an alarm runs; its id is the `webhook-id` every retry carries.
 * - `pending`: to send at `next_at`. `sending`: in flight (found so with nothing in flight
 *   after a restart, it is sent again: receivers of webhooks drop it by its id).
 * - `sent`, `failed`: final.
 */
export const REPORT_COLUMNS = {
  id: "TEXT PRIMARY KEY",
  channel: "TEXT NOT NULL",
  event: "TEXT NOT NULL",
  delivery_id: "TEXT NOT NULL",
  incident_id: "TEXT",
  body: "TEXT NOT NULL",
  state: "TEXT NOT NULL",
  attempts: "INTEGER NOT NULL DEFAULT 0",
  next_at: "INTEGER",
  reason: "TEXT",
  created_at: "INTEGER NOT NULL",
} as const satisfies Record<string, ColumnDeclaration>;

export type ReportRow = RowOf<typeof REPORT_COLUMNS, { channel: OutgoingReport["channel"]; event: OutgoingReport["event"]; state: ReportEntry["state"] }>;

/** Reports are kept this long after they were written, sent or not. */
const KEEP_REPORTS_MS = 7 * 24 * 3600_000;

export class ReportRows {
  constructor(private readonly sql: SqlStorage) {}

  insert(report: OutgoingReport, deliveryId: string, now: number): void {
    this.sql.exec(
      `INSERT INTO reports (id, channel, event, delivery_id, incident_id, body, state, next_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      `msg_${crypto.randomUUID().replaceAll("-", "")}`,
      report.channel,
      report.event,
      deliveryId,
      report.incident_id ?? null,
      report.body,
      now,
      now,
    );
  }

  /** Pending reports due by `now`, and every `sending` one (the caller skips its own), oldest first. */
  due(now: number, limit: number): ReportRow[] {
    return this.sql
      .exec<ReportRow>("SELECT * FROM reports WHERE (state = 'pending' AND next_at <= ?) OR state = 'sending' ORDER BY created_at LIMIT ?", now, limit)
      .toArray();
  }

  update(id: string, changes: Partial<Pick<ReportRow, "state" | "attempts" | "next_at" | "reason">>): void {
    const columns = Object.keys(changes) as Array<keyof typeof changes>;
    if (columns.length === 0) return;
    this.sql.exec(`UPDATE reports SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, ...columns.map((c) => changes[c] ?? null), id);
  }

  nextDue(): number | undefined {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM reports WHERE state = 'pending'").one();
    return row.at ?? undefined;
  }

  hasSending(): boolean {
    return this.sql.exec("SELECT 1 FROM reports WHERE state = 'sending' LIMIT 1").toArray().length > 0;
  }

  byDelivery(deliveryId: string): ReportEntry[] {
    return this.sql
      .exec<ReportRow>("SELECT * FROM reports WHERE delivery_id = ? ORDER BY created_at", deliveryId)
      .toArray()
      .map((row) => ({
        id: row.id,
        channel: row.channel,
        event: row.event,
        state: row.state,
        attempts: row.attempts,
        ...(row.reason ? { reason: row.reason } : {}),
      }));
  }

  deleteOld(now: number): void {
    this.sql.exec("DELETE FROM reports WHERE created_at < ? AND state IN ('sent', 'failed')", now - KEEP_REPORTS_MS);
  }
}
