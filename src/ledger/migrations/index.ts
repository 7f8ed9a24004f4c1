import { INITIAL_SCHEMA } from "./0001-initial";
import { REQUESTED_BY } from "./0002-requested-by";
import { APPROVALS_SCHEMA } from "./0003-approvals";
import { METRICS_SCHEMA } from "./0004-metrics";
import { COMMAND_COLUMNS_SCHEMA } from "./0005-command-columns";
import { APPROVERS_SCHEMA } from "./0006-approvers";

/**
 * One step of the ledger's SQLite schema. Steps run in order, each once, each in its own
 * transaction, and are recorded in `schema_migrations`.
 *
 * The rules every step keeps (migrations.test.ts checks them):
 * - A step that has shipped is never edited: a change is a new step with the next number.
 * - Steps only add: tables, indexes, and columns that are nullable or have a default. So the
 *   release before can still run over a schema one step ahead of it (its inserts name their
 *   columns), and a rollback by one release is safe. An UPDATE may fill the columns its own
 *   step adds (a back-fill), and nothing else.
 */
export interface Migration {
  version: number;
  /** What the step does, as an operator reads it in `schema_migrations`. */
  name: string;
  sql: string;
}

export const LEDGER_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "commands, API budget, limits and reports (release 0.1.0)", sql: INITIAL_SCHEMA },
  { version: 2, name: "commands.requested_by: who asked for a capture on demand", sql: REQUESTED_BY },
  { version: 3, name: "approval before sending: who decided, how and when", sql: APPROVALS_SCHEMA },
  { version: 4, name: "metric counters; when each command's alert was received", sql: METRICS_SCHEMA },
  { version: 5, name: "commands.type, device_id, user_email, registration_id, args: the command as columns", sql: COMMAND_COLUMNS_SCHEMA },
  { version: 6, name: "commands.approval_approvers: who may decide, when the rule names them", sql: APPROVERS_SCHEMA },
];
