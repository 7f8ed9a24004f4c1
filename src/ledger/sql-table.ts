/**
 * A SQLite table of the ledger declared once: its columns give both the `CREATE TABLE`
 * statement and the TypeScript type of its rows, so that the two cannot drift apart.
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
export type RowOf<
  Columns extends Record<string, ColumnDeclaration>,
  Narrowed extends { [K in keyof Columns]?: CellOf<Columns[K]> } = {},
> = { [K in keyof Columns]: K extends keyof Narrowed ? Narrowed[K] : CellOf<Columns[K]> } & Record<string, SqlStorageValue>;

/** `CREATE TABLE IF NOT EXISTS` for the columns, then each index (`name → column list`). */
export function tableSchema(
  name: string,
  columns: Record<string, ColumnDeclaration>,
  indexes: Record<string, string> = {},
): string {
  const body = Object.entries(columns)
    .map(([column, declaration]) => `  ${column} ${declaration}`)
    .join(",\n");
  const indexStatements = Object.entries(indexes).map(
    ([index, on]) => `\nCREATE INDEX IF NOT EXISTS ${index} ON ${name} (${on});`,
  );
  return `\nCREATE TABLE IF NOT EXISTS ${name} (\n${body}\n);${indexStatements.join("")}`;
}
