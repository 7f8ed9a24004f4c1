/**
 * One budget for every call the relay makes to the DEX API — creates, reconcile lists,
 * device searches, status polls — held by the command ledger in its SQLite storage.
 *
 * The API allows 1,200 calls per 5 minutes per token and locks the token out for 5 minutes
 * past that. A token bucket of BURST calls refilled at REFILL_PER_SECOND can spend at most
 * BURST + 300 × REFILL_PER_SECOND = 1,000 calls in any 5 minutes: below the limit, with room
 * for a person using the same token.
 */
import type { ColumnDeclaration, RowOf } from "../model/sql-table";

export const API_BURST = 100;
export const API_REFILL_PER_SECOND = 3;

export const BUDGET_COLUMNS = {
  // One row: the budget of the account's one token.
  id: "INTEGER PRIMARY KEY CHECK (id = 1)",
  tokens: "REAL NOT NULL",
  refilled_at: "INTEGER NOT NULL",
  locked_until: "INTEGER NOT NULL",
} as const satisfies Record<string, ColumnDeclaration>;

/** What is read and written: every column but the fixed id. */
type BudgetRow = RowOf<Omit<typeof BUDGET_COLUMNS, "id">>;

export class ApiBudget {
  constructor(private readonly sql: SqlStorage) {}

  /** Counts `calls` and returns 0, or the whole seconds to wait when they may not go out now. */
  take(calls: number, now: number): number {
    const row = this.#read(now);
    if (row.locked_until > now) return Math.ceil((row.locked_until - now) / 1000);
    if (row.tokens < calls) return Math.max(1, Math.ceil((calls - row.tokens) / API_REFILL_PER_SECOND));
    this.#write({ ...row, tokens: row.tokens - calls, refilled_at: now });
    return 0;
  }

  /** The API answered 429: nothing goes out until `seconds` have passed; then the API's window starts afresh. */
  lockOut(seconds: number, now: number): void {
    const row = this.#read(now);
    const until = Math.max(row.locked_until, now + seconds * 1000);
    this.#write({ tokens: API_BURST, refilled_at: until, locked_until: until });
  }

  /** When the lockout ends, if the token is locked out now. */
  lockedUntil(now: number): number | undefined {
    const { locked_until } = this.#read(now);
    return locked_until > now ? locked_until : undefined;
  }

  /** Calls the budget would allow now (none while locked out): what `GET /metrics` shows. */
  available(now: number): number {
    const row = this.#read(now);
    return row.locked_until > now ? 0 : Math.floor(row.tokens);
  }

  #read(now: number): BudgetRow {
    const row = this.sql.exec<BudgetRow>("SELECT tokens, refilled_at, locked_until FROM api_budget WHERE id = 1").toArray()[0];
    if (!row) return { tokens: API_BURST, refilled_at: now, locked_until: 0 };
    const elapsed = Math.max(0, now - row.refilled_at) / 1000;
    return { ...row, tokens: Math.min(API_BURST, row.tokens + elapsed * API_REFILL_PER_SECOND), refilled_at: now };
  }

  #write(row: BudgetRow): void {
    this.sql.exec(
      "INSERT INTO api_budget (id, tokens, refilled_at, locked_until) VALUES (1, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens, refilled_at = excluded.refilled_at, locked_until = excluded.locked_until",
      row.tokens,
      row.refilled_at,
      row.locked_until,
    );
  }
}
