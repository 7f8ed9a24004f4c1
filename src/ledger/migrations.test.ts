import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ledger } from "../../test/helpers/ledger";
import { isolateEachTest } from "../../test/helpers/relay";
import { migrateLedger } from "./migrate";
import { LEDGER_MIGRATIONS, type Migration } from "./migrations";
import { LEDGER_TABLES } from "./tables";

isolateEachTest();

type ColumnInfo = {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
};

/** The SQL statements of a step, one by one, comments and blank lines dropped. */
function statementsOf(sql: string): string[] {
  return sql
    .split(";")
    .map((statement) => statement.replace(/\s+/g, " ").trim())
    .filter(Boolean);
}

describe("ledger migrations: the steps", () => {
  it("are numbered 1, 2, 3 … with nothing skipped or repeated, each named", () => {
    expect(LEDGER_MIGRATIONS.map((step) => step.version)).toEqual(LEDGER_MIGRATIONS.map((_, i) => i + 1));
    for (const step of LEDGER_MIGRATIONS) expect(step.name.length).toBeGreaterThan(0);
  });

  it("only add: tables, indexes, and columns the release before can ignore (nullable or with a default)", () => {
    for (const step of LEDGER_MIGRATIONS) {
      const added = new Set<string>();
      for (const statement of statementsOf(step.sql)) {
        const addColumn = /^ALTER TABLE (\w+) ADD COLUMN (\w+)(.*)$/i.exec(statement);
        if (addColumn) {
          const declaration = addColumn[3]!;
          const needsDefault = /NOT NULL/i.test(declaration) && !/DEFAULT/i.test(declaration);
          expect(needsDefault, `step ${step.version}: ${statement}`).toBe(false);
          added.add(`${addColumn[1]}.${addColumn[2]}`);
          continue;
        }
        // A back-fill: it may write only the columns its own step has just added.
        const update = /^UPDATE (\w+) SET (.*?)(?: WHERE .*)?$/i.exec(statement);
        if (update) {
          const written = [...update[2]!.matchAll(/(?:^|,)\s*(\w+)\s*=/g)].map((m) => `${update[1]}.${m[1]}`);
          expect(written.length, `step ${step.version}: ${statement}`).toBeGreaterThan(0);
          for (const column of written) expect(added.has(column), `step ${step.version} writes ${column}, which it did not add`).toBe(true);
          continue;
        }
        expect(statement, `step ${step.version}`).toMatch(/^CREATE (TABLE|INDEX|UNIQUE INDEX) /i);
      }
    }
  });
});

describe("ledger migrations: a new ledger", () => {
  it("runs every step once and records it", async () => {
    const versions = await runInDurableObject(ledger(), (_, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version").toArray(),
    );
    expect(versions.map((row) => row.version)).toEqual(LEDGER_MIGRATIONS.map((step) => step.version));
  });

  it("ends with exactly the columns the code declares, table by table", async () => {
    const tables = await runInDurableObject(ledger(), (_, state) =>
      Object.fromEntries(Object.keys(LEDGER_TABLES).map((table) => [table, state.storage.sql.exec<ColumnInfo>(`PRAGMA table_info(${table})`).toArray()])),
    );
    for (const [table, declared] of Object.entries(LEDGER_TABLES)) {
      const actual = tables[table]!;
      expect(
        actual.map((column) => column.name),
        table,
      ).toEqual(Object.keys(declared));
      for (const column of actual) {
        const declaration = declared[column.name]!;
        expect(column.type, `${table}.${column.name}`).toBe(declaration.split(" ")[0]);
        // A column the code treats as never null is one SQLite keeps from being null.
        expect(column.notnull === 1 || column.pk === 1, `${table}.${column.name} NOT NULL`).toBe(/NOT NULL|PRIMARY KEY/.test(declaration));
      }
    }
  });

  it("runs nothing the second time", async () => {
    const result = await runInDurableObject(ledger(), (_, state) => migrateLedger(state.storage));
    const latest = LEDGER_MIGRATIONS.at(-1)!.version;
    expect(result).toEqual({ from: latest, to: latest, applied: [] });
  });
});

describe("ledger migrations: the steps after release 0.1.0", () => {
  it("keep every command of a release 0.1.0 ledger, as one nobody asked for by hand, that needs no approval and has nothing to report about it", async () => {
    const row = await runInDurableObject(ledger(), (_, state) => {
      const { sql } = state.storage;
      for (const table of ["commands", "api_budget", "limits", "reports", "schema_migrations"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
      migrateLedger(state.storage, LEDGER_MIGRATIONS.slice(0, 1));
      sql.exec(
        `INSERT INTO commands (key, delivery_id, source, alert, episode, rule, severity_rank, cooldown_key, command, state, queued_at, report, expires_at)
         VALUES ('k1', 'd1', 'zapier', 0, 'e1', 'r1', 0, 'c1', '{}', 'waiting', 1, '{}', 2)`,
      );
      expect(migrateLedger(state.storage).applied).toEqual(LEDGER_MIGRATIONS.slice(1).map((step) => step.version));
      return sql
        .exec("SELECT state, requested_by, approval_secret, approval_expires_at, approval_by, approval_via, approval_at, approval_reported FROM commands")
        .one();
    });
    expect(row).toEqual({
      state: "waiting",
      requested_by: null,
      approval_secret: null,
      approval_expires_at: null,
      approval_by: null,
      approval_via: null,
      approval_at: null,
      approval_reported: 0,
    });
  });
});

describe("ledger migrations: the runner", () => {
  const probe: Migration[] = [
    ...LEDGER_MIGRATIONS,
    { version: LEDGER_MIGRATIONS.length + 1, name: "probe table", sql: "CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT);" },
  ];

  it("runs only the steps a ledger has not run, in order", async () => {
    const result = await runInDurableObject(ledger(), (_, state) => {
      const first = migrateLedger(state.storage, probe);
      state.storage.sql.exec("INSERT INTO probe (id, note) VALUES (1, 'kept')");
      return { first, note: state.storage.sql.exec<{ note: string }>("SELECT note FROM probe").one().note };
    });
    expect(result.first.applied).toEqual([probe.length]);
    expect(result.note).toBe("kept");
  });

  it("keeps a step that fails from happening in part: neither its tables nor its record remain", async () => {
    const broken: Migration[] = [
      ...LEDGER_MIGRATIONS,
      { version: LEDGER_MIGRATIONS.length + 1, name: "half a step", sql: "CREATE TABLE half (id INTEGER); ALTER TABLE no_such_table ADD COLUMN x TEXT;" },
    ];
    const after = await runInDurableObject(ledger(), (_, state) => {
      expect(() => migrateLedger(state.storage, broken)).toThrow(/no_such_table/);
      return {
        half: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'half'").toArray().length,
        version: state.storage.sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM schema_migrations").one().v,
      };
    });
    expect(after).toEqual({ half: 0, version: LEDGER_MIGRATIONS.length });
  });

  it("leaves a schema ahead of this release alone (a rollback), and says so", async () => {
    const ahead = LEDGER_MIGRATIONS.length + 1;
    const problems = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const result = await runInDurableObject(ledger(), (_, state) => {
      state.storage.sql.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from a newer release', 0)", ahead);
      return migrateLedger(state.storage);
    });
    expect(result).toEqual({ from: ahead, to: ahead, applied: [] });
    expect(problems).toHaveBeenCalledWith(expect.stringContaining('"event":"ledger-schema-newer"'));
  });
});
