import { describe, expect, it } from "vitest";
import { tableSchema } from "./sql-table";

describe("tableSchema", () => {
  it("declares each column as given, then each index", () => {
    expect(tableSchema("reports", { id: "TEXT PRIMARY KEY", attempts: "INTEGER NOT NULL DEFAULT 0", next_at: "INTEGER" }, { reports_by_state: "state, next_at" })).toBe(
      "\nCREATE TABLE IF NOT EXISTS reports (\n  id TEXT PRIMARY KEY,\n  attempts INTEGER NOT NULL DEFAULT 0,\n  next_at INTEGER\n);" +
        "\nCREATE INDEX IF NOT EXISTS reports_by_state ON reports (state, next_at);",
    );
  });
});
