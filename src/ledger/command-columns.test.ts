import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledger } from "../../test/helpers/ledger";
import { isolateEachTest } from "../../test/helpers/relay";
import { CommandRows, commandOf } from "./command-rows";
import type { LedgerCommand } from "./contract";
import { migrateLedger } from "./migrate";
import { LEDGER_MIGRATIONS } from "./migrations";

isolateEachTest();

/** A command as release 0.1.0 stored it: the whole of it one JSON text. */
const PCAP_JSON = JSON.stringify({
  type: "pcap",
  args: { "max-file-size-mb": 10, "time-limit-min": 2 },
  device_id: "dev-1",
  user_email: "jane.doe@example.com",
  registration_id: "reg-1",
});

const COMMAND: LedgerCommand = {
  key: "k2",
  cooldown_key: "c2",
  cooldown_minutes: 0,
  delivery_id: "d2",
  source: "zapier",
  alert: 0,
  episode: "e2",
  rule: "r2",
  severity_rank: 0,
  command: { type: "warp-diag", device_id: "dev-2", user_email: "sam.lee@example.com", args: { "test-all-routes": true } },
  report: { title: "t" },
};

/** A ledger at step 4 (the release before this step), with one row in it, then brought up to date. */
function upgradeOneRow(sql: SqlStorage, storage: DurableObjectStorage, command: string) {
  for (const table of ["commands", "api_budget", "limits", "reports", "metric_counters", "schema_migrations"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
  migrateLedger(storage, LEDGER_MIGRATIONS.slice(0, 4));
  sql.exec(
    `INSERT INTO commands (key, delivery_id, source, alert, episode, rule, severity_rank, cooldown_key, command, state, queued_at, report, expires_at)
     VALUES ('k1', 'd1', 'zapier', 0, 'e1', 'r1', 0, 'c1', ?, 'waiting', 1, '{}', 2)`,
    command,
  );
  expect(migrateLedger(storage, LEDGER_MIGRATIONS.slice(0, 5)).applied).toEqual([5]);
  return sql.exec("SELECT type, device_id, user_email, registration_id, args FROM commands WHERE key = 'k1'").one();
}

describe("migration 5: the command as columns", () => {
  it("fills the columns of rows already there from their JSON (json_extract in the ledger's SQLite)", async () => {
    const row = await runInDurableObject(ledger(), (_, state) => upgradeOneRow(state.storage.sql, state.storage, PCAP_JSON));
    expect(row).toEqual({ type: "pcap", device_id: "dev-1", user_email: "jane.doe@example.com", registration_id: "reg-1", args: expect.any(String) });
    expect(JSON.parse(row.args as string)).toEqual({ "max-file-size-mb": 10, "time-limit-min": 2 });
  });

  it("leaves the columns NULL for a command that has no registration or args, or JSON it cannot read", async () => {
    const bare = await runInDurableObject(ledger(), (_, state) =>
      upgradeOneRow(state.storage.sql, state.storage, JSON.stringify({ type: "speed-test", device_id: "dev-3", user_email: "a@example.com" })),
    );
    expect(bare).toEqual({ type: "speed-test", device_id: "dev-3", user_email: "a@example.com", registration_id: null, args: null });
    const broken = await runInDurableObject(ledger(), (_, state) => upgradeOneRow(state.storage.sql, state.storage, "not json"));
    expect(broken).toEqual({ type: null, device_id: null, user_email: null, registration_id: null, args: null });
  });

  it("reads the same command back from the columns as the JSON held", async () => {
    const read = await runInDurableObject(ledger(), (_, state) => {
      upgradeOneRow(state.storage.sql, state.storage, PCAP_JSON);
      return commandOf(new CommandRows(state.storage.sql).get("k1")!);
    });
    expect(read).toEqual(JSON.parse(PCAP_JSON));
  });

  it("writes both the columns and the JSON, so the release before still reads a new command after a rollback", async () => {
    const row = await runInDurableObject(ledger(), (_, state) => {
      new CommandRows(state.storage.sql).insert(COMMAND, 1_000, 60_000);
      return state.storage.sql.exec("SELECT command, type, device_id, user_email, registration_id, args FROM commands WHERE key = 'k2'").one();
    });
    expect(JSON.parse(row.command as string)).toEqual(COMMAND.command);
    expect(row).toMatchObject({ type: "warp-diag", device_id: "dev-2", user_email: "sam.lee@example.com", registration_id: null });
    expect(JSON.parse(row.args as string)).toEqual({ "test-all-routes": true });
  });

  it("reads a row the release before wrote over this schema (the columns NULL) from its JSON", async () => {
    const read = await runInDurableObject(ledger(), (_, state) => {
      state.storage.sql.exec(
        `INSERT INTO commands (key, delivery_id, source, alert, episode, rule, severity_rank, cooldown_key, command, state, queued_at, report, expires_at)
         VALUES ('k3', 'd3', 'zapier', 0, 'e3', 'r3', 0, 'c3', ?, 'waiting', 1, '{}', 2)`,
        PCAP_JSON,
      );
      return commandOf(new CommandRows(state.storage.sql).get("k3")!);
    });
    expect(read).toEqual(JSON.parse(PCAP_JSON));
  });
});
