import { loadDexSettings, type DexSettings } from "../config/settings";

/**
 * The DEX settings the ledger works with. The cap comes with each submit, as the consumer
 * read and checked it (during a deploy the consumer and the ledger may run different
 * versions); the ledger keeps the last one given in its `limits` table, for its alarm.
 */
export function ledgerSettings(env: Env, sql: SqlStorage): DexSettings {
  const loaded = loadDexSettings(env);
  // Thrown to the consumer (its message is retried) or to the alarm (retried by the runtime).
  if (!loaded.ok) throw new Error(`relay configuration is invalid: ${loaded.error}`);
  const cap = sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").toArray()[0];
  return cap ? { ...loaded.settings, maxCommandsPerMinute: cap.value } : loaded.settings;
}

export function rememberCap(sql: SqlStorage, maxCommandsPerMinute: number): void {
  sql.exec(
    "INSERT INTO limits (name, value) VALUES ('max_commands_per_minute', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    maxCommandsPerMinute,
  );
}
