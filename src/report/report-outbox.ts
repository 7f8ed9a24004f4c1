import { logEvent, logProblem } from "../record/log";
import type { ReportEntry } from "../model/report-entry";
import type { ChannelSettings } from "../config/channels";
import type { OutgoingReport } from "./compose";
import { ReportRows, type ReportRow } from "./report-rows";
import { reportRetrySeconds, REPORT_HORIZON_MS } from "./retry-schedule";
import { sendReport, type SendOutcome } from "./send-report";

/** Reports due within this long of each other go out in the same pass. */
const DUE_TOGETHER_MS = 1_000;
/** Reports sent in one pass, at most; the rest go in the next. */
const MAX_REPORTS_PER_PASS = 25;

export type ReportResult = "sent" | "failed" | "retried";

/** What becomes of a report after one attempt: the one place its retries and its horizon are decided. */
export function settleReport(
  row: Pick<ReportRow, "attempts" | "created_at">,
  outcome: SendOutcome,
  now: number,
): {
  changes: Pick<ReportRow, "state" | "next_at" | "reason">;
  result: ReportResult;
} {
  const attempts = row.attempts + 1;
  if (outcome.state === "sent") return { changes: { state: "sent", next_at: null, reason: null }, result: "sent" };
  if (outcome.state === "failed" || now - row.created_at >= REPORT_HORIZON_MS) {
    const reason = outcome.state === "failed" ? outcome.error : `gave up after ${attempts} attempts over 24 hours (last: ${outcome.error})`;
    return { changes: { state: "failed", next_at: null, reason }, result: "failed" };
  }
  const delay = Math.max(outcome.afterSeconds ?? 0, reportRetrySeconds(attempts));
  return { changes: { state: "pending", next_at: now + delay * 1000, reason: `${outcome.error}; retrying in ${delay} s` }, result: "retried" };
}

/**
 * The outbox of reports back to the incident: one row per message to one channel, written in
 * the same synchronous step that marks its commands reported, so each exists once; sent with
 * retries until its receiver says 2xx, or until the report horizon. The command ledger owns
 * the storage and the alarm, and calls this.
 */
export class ReportOutbox {
  readonly #rows: ReportRows;
  /** Reports this instance is sending now. A `sending` row outside it was left by a restart. */
  readonly #inFlight = new Set<string>();

  constructor(
    sql: SqlStorage,
    /** Counts each attempt's result (`dex_relay_reports_total`). */
    private readonly count: (channel: string, result: ReportResult) => void,
  ) {
    this.#rows = new ReportRows(sql);
  }

  write(report: OutgoingReport, deliveryId: string, now: number): void {
    this.#rows.insert(report, deliveryId, now);
  }

  byDelivery(deliveryId: string): ReportEntry[] {
    return this.#rows.byDelivery(deliveryId);
  }

  deleteOld(now: number): void {
    this.#rows.deleteOld(now);
  }

  /** When the alarm must wake for the outbox: its next retry, or the watchdog's look at a send in flight. */
  nextDue(): number | undefined {
    return this.#rows.nextDue();
  }

  hasSending(): boolean {
    return this.#rows.hasSending();
  }

  /**
   * Sends due reports: each channel's in order, the channels side by side. A channel that
   * fails in a pass is left alone for the rest of it. A report is marked sent once its
   * receiver said 2xx, and never written again, so it goes out once (a restart in the
   * middle of a send resends that one message; webhook receivers drop it by its id).
   * `afterPass` runs once a pass that sent anything is over (the ledger sets its alarm).
   */
  async sendDue(settings: ChannelSettings, now: number, afterPass: () => Promise<void>): Promise<void> {
    const due = this.#rows.due(now + DUE_TOGETHER_MS, MAX_REPORTS_PER_PASS).filter((row) => !this.#inFlight.has(row.id));
    if (due.length === 0) return;
    for (const row of due) {
      this.#inFlight.add(row.id);
      this.#rows.update(row.id, { state: "sending", attempts: row.attempts + 1 });
    }
    const byChannel = new Map<string, ReportRow[]>();
    for (const row of due) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
    try {
      await Promise.all([...byChannel.values()].map((rows) => this.#sendChannel(rows, settings)));
    } finally {
      for (const row of due) this.#inFlight.delete(row.id);
      await afterPass();
    }
  }

  async #sendChannel(rows: ReportRow[], settings: ChannelSettings): Promise<void> {
    let held: string | undefined;
    for (const row of rows) {
      if (held) {
        // Not tried: this pass's failure on the channel says nothing about this report.
        this.#rows.update(row.id, { state: "pending", attempts: row.attempts, next_at: Date.now() + 1000 * reportRetrySeconds(1), reason: held });
        continue;
      }
      let outcome: SendOutcome;
      try {
        outcome = await sendReport(
          { id: row.id, channel: row.channel, event: row.event, body: row.body, incident_id: row.incident_id ?? undefined },
          settings,
          new Date(),
        );
      } catch (error) {
        outcome = { state: "retry", error: error instanceof Error ? error.message : String(error) };
      }
      this.#settle(row, outcome);
      if (outcome.state === "retry") held = `waiting for ${row.channel}: ${outcome.error}`;
    }
  }

  #settle(row: ReportRow, outcome: SendOutcome): void {
    const { changes, result } = settleReport(row, outcome, Date.now());
    this.count(row.channel, result);
    this.#rows.update(row.id, changes);
    const details = { delivery_id: row.delivery_id, report: row.id, channel: row.channel, report_event: row.event, attempts: row.attempts + 1 };
    if (result === "sent") logEvent("report-sent", details);
    else if (result === "failed") logProblem("report-failed", { ...details, reason: changes.reason ?? undefined });
    else logEvent("report-retry-scheduled", { ...details, reason: changes.reason ?? undefined });
  }
}
