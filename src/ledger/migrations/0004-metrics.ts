/**
 * Migration 4: what `GET /metrics` reads from the ledger.
 * - `metric_counters`: one row per counter series (and per histogram bucket, sum and count),
 *   only ever added to. Commands and reports are deleted after their time; the counters are
 *   not, so they stay monotonic, as Prometheus expects of a counter.
 * - `commands.received_at`: when the relay received the alert (epoch ms), to time alert →
 *   command. Null for rows written before this step, and for commands handed over by a
 *   consumer of an earlier release during a deploy: those are timed from `queued_at`.
 */
export const METRICS_SCHEMA = `
CREATE TABLE IF NOT EXISTS metric_counters (
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (name, labels)
);
ALTER TABLE commands ADD COLUMN received_at INTEGER;
`;
