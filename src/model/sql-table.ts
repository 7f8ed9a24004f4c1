/**
 * A SQLite table of the ledger declared in TypeScript: its columns give the type of its rows.
 * The tables themselves are made by the ledger's numbered migrations (src/ledger/migrations); migrations.test.ts
 * fails when a declaration and the migrated schema part.
 */

/** A column's SQLite declaration; its first word says what the column holds. */
export type ColumnDeclaration = `${"TEXT" | "INTEGER" | "REAL"}${string}`;

type ValueOf<Declaration> = Declaration extends `TEXT${string}` ? string : number;
/** A NOT NULL or PRIMARY KEY column always holds a value; any other may hold NULL. */
type CellOf<Declaration> = Declaration extends `${string}NOT NULL${string}` | `${string}PRIMARY KEY${string}`
  ? ValueOf<Declaration>
  : ValueOf<Declaration> | null;

/**
 * A row as `SELECT *` returns it. `Narrowed` gives some columns a narrower type than their
 * SQL one (a state, a channel name); it must be assignable to what the column holds.
 */
export type RowOf<Columns extends Record<string, ColumnDeclaration>, Narrowed extends { [K in keyof Columns]?: CellOf<Columns[K]> } = Record<never, never>> = {
  [K in keyof Columns]: K extends keyof Narrowed ? Narrowed[K] : CellOf<Columns[K]>;
} & Record<string, SqlStorageValue>;
