import { loadLedgerSettings, type LedgerSettings } from "../config/ledger-settings";

/**
 * The settings the ledger works with: the last ones the Worker handed it
 * (../config/ledger-settings.ts). A ledger its alarm wakes before any call has reached it
 * (after a deploy or an eviction) reads its own bindings with the same reader.
 *
 * The cap is the one exception: the ledger keeps the last one handed in its `limits` table
 * and works with that. During a deploy the consumer and the ledger may run different
 * versions, and the cap the consumer checked is the one it promised its senders.
 */
export class HandedSettings {
  readonly #env: Env;
  readonly #sql: SqlStorage;
  #handed: LedgerSettings | undefined;

  constructor(env: Env, sql: SqlStorage) {
    this.#env = env;
    this.#sql = sql;
  }

  /** Keeps what the Worker handed, for this call and the alarms after it. */
  take(settings: LedgerSettings): LedgerSettings {
    this.#sql.exec(
      "INSERT INTO limits (name, value) VALUES ('max_commands_per_minute', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      settings.dex.maxCommandsPerMinute,
    );
    this.#handed = settings;
    return settings;
  }

  current(): LedgerSettings {
    if (this.#handed) return this.#handed;
    const loaded = loadLedgerSettings(this.#env);
    // Thrown to the alarm, which the runtime retries.
    if (!loaded.ok) throw new Error(`relay configuration is invalid: ${loaded.error}`);
    const cap = this.#sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").toArray()[0];
    return cap ? { ...loaded.settings, dex: { ...loaded.settings.dex, maxCommandsPerMinute: cap.value } } : loaded.settings;
  }
}
