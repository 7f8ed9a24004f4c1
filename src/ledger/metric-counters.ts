import { familyOf, labelKey, type CounterIncrement, type Labels, type MetricFamily, type MetricSample } from "../model/metrics";
import { logProblem } from "../record/log";
import type { ColumnDeclaration, RowOf } from "../model/sql-table";

/** The columns as migration 2 leaves them (./migrations/0002-metrics.ts). */
export const METRIC_COUNTER_COLUMNS = {
  name: "TEXT NOT NULL",
  labels: "TEXT NOT NULL",
  value: "REAL NOT NULL DEFAULT 0",
} as const satisfies Record<string, ColumnDeclaration>;

type CounterRow = RowOf<typeof METRIC_COUNTER_COLUMNS>;

/** Longer label values are refused: every value is one of the relay's own words. */
const MAX_LABEL_VALUE_LENGTH = 64;
/** More increments than this in one call are refused whole: a consumer batch sends a few dozen. */
export const MAX_INCREMENTS_PER_CALL = 1_000;

/**
 * The ledger's counters, in their own table: rows are only ever added to, never derived
 * from the commands or reports (which are deleted after their time), so every counter is
 * monotonic for as long as the ledger lives. Every method is synchronous.
 */
export class MetricCounters {
  constructor(private readonly sql: SqlStorage) {}

  add(metric: MetricFamily, labels: Labels = {}, by = 1): void {
    this.#add(metric.name, labels, by);
  }

  /**
   * Adds what another stage counted (ingest, the consumer). Anything that is not a known
   * counter with its declared labels is refused whole, and nothing of it is counted.
   */
  addAll(increments: readonly CounterIncrement[]): { refused?: string } {
    const refused = problemWith(increments);
    if (refused) {
      logProblem("metrics-refused", { reason: refused });
      return { refused };
    }
    for (const { name, labels, by } of increments) if (by > 0) this.#add(name, labels, by);
    return {};
  }

  /** One observation of a histogram: each bucket it falls in, the sum and the count, in base units. */
  observe(metric: MetricFamily, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    for (const bound of metric.buckets ?? []) if (value <= bound) this.#add(`${metric.name}_bucket`, { le: String(bound) }, 1);
    this.#add(`${metric.name}_bucket`, { le: "+Inf" }, 1);
    this.#add(`${metric.name}_sum`, {}, value);
    this.#add(`${metric.name}_count`, {}, 1);
  }

  read(): MetricSample[] {
    return this.sql
      .exec<CounterRow>("SELECT name, labels, value FROM metric_counters ORDER BY name, labels")
      .toArray()
      .map((row) => ({ name: row.name, labels: Object.fromEntries(JSON.parse(row.labels) as Array<[string, string]>), value: row.value }));
  }

  #add(name: string, labels: Labels, by: number): void {
    this.sql.exec(
      "INSERT INTO metric_counters (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
      name,
      labelKey(labels),
      by,
    );
  }
}

/** Why a batch of increments cannot be counted, or undefined when every one can. */
function problemWith(increments: readonly CounterIncrement[]): string | undefined {
  if (!Array.isArray(increments)) return "increments must be a list";
  if (increments.length > MAX_INCREMENTS_PER_CALL) return `more than ${MAX_INCREMENTS_PER_CALL} increments in one call`;
  for (const increment of increments) {
    const metric = familyOf(increment?.name);
    if (metric?.type !== "counter" || metric.name !== increment.name) return `${String(increment?.name)} is not a counter the relay exports`;
    if (typeof increment.by !== "number" || !Number.isFinite(increment.by) || increment.by < 0)
      return `${metric.name}: an increment must be a finite number, 0 or more`;
    const given = Object.keys(increment.labels ?? {}).sort();
    if (given.join() !== [...metric.labels].sort().join()) return `${metric.name}: labels must be exactly ${metric.labels.join(", ") || "none"}`;
    for (const value of Object.values(increment.labels)) {
      if (typeof value !== "string" || value.length === 0 || value.length > MAX_LABEL_VALUE_LENGTH)
        return `${metric.name}: a label value must be 1 to ${MAX_LABEL_VALUE_LENGTH} characters`;
    }
  }
  return undefined;
}
