import { BUDGET_COLUMNS } from "./api-budget";
import { COMMAND_COLUMNS } from "./command-rows";
import { METRIC_COUNTER_COLUMNS } from "./metric-counters";
import { REPORT_COLUMNS } from "../report/report-rows";
import type { ColumnDeclaration } from "../model/sql-table";

export const LIMITS_COLUMNS = {
  name: "TEXT PRIMARY KEY",
  value: "INTEGER NOT NULL",
} as const satisfies Record<string, ColumnDeclaration>;

/** Every table of the ledger and its columns, as the code reads and writes them. */
export const LEDGER_TABLES: Readonly<Record<string, Record<string, ColumnDeclaration>>> = {
  commands: COMMAND_COLUMNS,
  api_budget: BUDGET_COLUMNS,
  limits: LIMITS_COLUMNS,
  reports: REPORT_COLUMNS,
  metric_counters: METRIC_COUNTER_COLUMNS,
};
