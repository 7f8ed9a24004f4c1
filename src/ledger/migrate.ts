import { logEvent, logProblem } from "../record/log";
import { LEDGER_MIGRATIONS, type Migration } from "./migrations";

/** Which steps a ledger has run, and when: the one record of its schema's version. */
const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);`;

export interface MigrationResult {
  /** The schema's version before this run: 0 for a new ledger, or one of release 0.1.0. */
  from: number;
  to: number;
  applied: number[];
}

/**
 * Brings the ledger's schema up to the last step this release knows. Each step runs in its
 * own transaction together with its record, so a step either happened whole or not at all,
 * and an interrupted upgrade resumes at the step it stopped before.
 *
 * A schema ahead of this release (a rollback after an upgrade) is left as it is: steps only
 * add, so this release keeps working over it, and the newer release finds its steps done.
 */
export function migrateLedger(storage: DurableObjectStorage, migrations: readonly Migration[] = LEDGER_MIGRATIONS): MigrationResult {
  const { sql } = storage;
  sql.exec(MIGRATIONS_TABLE);
  const from = sql.exec<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations").one().version ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (from > latest) {
    logProblem("ledger-schema-newer", { schema_version: from, release_knows: latest });
    return { from, to: from, applied: [] };
  }
  const applied: number[] = [];
  for (const step of migrations) {
    if (step.version <= from) continue;
    storage.transactionSync(() => {
      sql.exec(step.sql);
      sql.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", step.version, step.name, Date.now());
    });
    applied.push(step.version);
  }
  if (applied.length > 0) logEvent("ledger-migrated", { from_version: from, to_version: latest, steps: applied.length });
  return { from, to: Math.max(from, latest), applied };
}
