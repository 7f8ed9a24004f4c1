import { COMMAND_STATUSES } from "../model/dex-api";
import { METRICS, type CounterIncrement, type MetricSample } from "../model/metrics";
import type { ApiBudget } from "./api-budget";
import { MetricCounters } from "./metric-counters";
import type { AccountQuota } from "./quota";

/**
 * Commands the ledger logs as finished, and the outcome `dex_relay_commands_total` counts
 * them under: the one the audit trail gives them (a command the spent quota held past its
 * useful window is `capped` there too).
 */
const FINAL_EVENTS: Readonly<Record<string, string>> = { created: "created", failed: "failed", capped: "expired", "quota-expired": "expired" };

/** What the ledger tells `GET /metrics`: its counters, and its gauges read now. */
export interface LedgerMetricsSnapshot {
  counters: MetricSample[];
  gauges: MetricSample[];
}

/**
 * The command ledger's own numbers. Counters are counted where the facts happen (a command
 * created, a report sent, a lockout), in the same synchronous step; gauges are read when
 * asked, from the rows as they are.
 */
export class LedgerMetrics {
  readonly #counters: MetricCounters;

  constructor(
    private readonly sql: SqlStorage,
    private readonly budget: ApiBudget,
    private readonly quota: AccountQuota,
  ) {
    this.#counters = new MetricCounters(sql);
  }

  /** Counts what another stage counted (ingest, the queue consumer). */
  addAll(increments: readonly CounterIncrement[]): { refused?: string } {
    return this.#counters.addAll(increments);
  }

  /**
   * Every command event the ledger logs (`ledger-created`, `ledger-failed`, `ledger-capped`,
   * `ledger-quota-expired`, `ledger-status`, `ledger-retry-scheduled`) is counted here too, so
   * a log line and a counter never disagree.
   */
  commandEvent(event: string, type: string, details: { status?: string | number }): void {
    const outcome = FINAL_EVENTS[event];
    if (outcome) this.#counters.add(METRICS.commands, { type, outcome });
    else if (event === "retry-scheduled") this.#counters.add(METRICS.commandRetries, { type });
    else if (event === "status" && typeof details.status === "string") {
      // A status the API may add later is counted, under a name that cannot grow the series.
      const status = (COMMAND_STATUSES as readonly string[]).includes(details.status) ? details.status : "other";
      this.#counters.add(METRICS.commandStatuses, { type, status });
    }
  }

  /** A command was created: the time since its alert arrived (or, failing that, since the ledger took it). */
  commandCreated(row: { received_at: number | null; queued_at: number }, now: number): void {
    this.#counters.observe(METRICS.alertToCommand, (now - (row.received_at ?? row.queued_at)) / 1000);
  }

  /** The DEX API locked the token out; `wasLocked` when it already was (a second 429 is the same lockout). */
  lockout(wasLocked: boolean): void {
    if (!wasLocked) this.#counters.add(METRICS.apiLockouts);
  }

  report(channel: string, result: "sent" | "failed" | "retried"): void {
    this.#counters.add(METRICS.reports, { channel, result });
  }

  /**
   * An approval asked for (`requested`) or ended (`approved`, `denied`, `expired`):
   * `dex_relay_approvals_total{outcome}`.
   */
  approval(outcome: string): void {
    this.#counters.add(METRICS.approvals, { outcome });
  }

  snapshot(now: number): LedgerMetricsSnapshot {
    const lockedUntil = this.budget.lockedUntil(now);
    const gauges: MetricSample[] = [
      { name: METRICS.apiBudget.name, labels: {}, value: this.budget.available(now) },
      { name: METRICS.apiLockout.name, labels: {}, value: lockedUntil ? Math.ceil((lockedUntil - now) / 1000) : 0 },
      { name: METRICS.reportsPending.name, labels: {}, value: this.#count("SELECT COUNT(*) AS n FROM reports WHERE state IN ('pending', 'sending')") },
    ];
    const pending = new Map(
      this.sql
        .exec<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM commands WHERE state IN ('waiting', 'sending', 'uncertain') GROUP BY state")
        .toArray()
        .map((row) => [row.state, row.n]),
    );
    for (const state of ["waiting", "sending", "uncertain"])
      gauges.push({ name: METRICS.commandsPending.name, labels: { state }, value: pending.get(state) ?? 0 });
    // The quota as last read (./quota.ts); nothing until the ledger has read it once.
    const quota = this.quota.status(now);
    if (quota.used !== null) gauges.push({ name: METRICS.quotaUsed.name, labels: {}, value: quota.used });
    if (quota.left_at_least !== null) gauges.push({ name: METRICS.quotaLeft.name, labels: {}, value: quota.left_at_least });
    gauges.push({ name: METRICS.quotaSpent.name, labels: {}, value: quota.spent_until === null ? 0 : 1 });
    return { counters: this.#counters.read(), gauges };
  }

  #count(query: string): number {
    return this.sql.exec<{ n: number }>(query).one().n;
  }
}
