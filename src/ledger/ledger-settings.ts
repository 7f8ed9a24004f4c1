import type { LedgerSettings } from "../config/ledger-settings";
import { loadLedgerSettings } from "../config/settings";

/**
 * What a queue consumer of release 0.1.0 hands over with its commands: the cap alone. During
 * a deploy such a consumer may still call a ledger of this release.
 */
export interface ReleaseOneLimits {
  maxCommandsPerMinute: number;
}

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
  #writtenCap: number | undefined;

  constructor(env: Env, sql: SqlStorage) {
    this.#env = env;
    this.#sql = sql;
  }

  /**
   * Keeps what the Worker handed, for this call and the alarms after it, and returns the
   * settings to work with. From a Worker of an earlier release, which hands the cap alone
   * (or nothing, to a decision), it keeps the cap and goes on with what it had.
   */
  take(given: LedgerSettings | ReleaseOneLimits | undefined): LedgerSettings {
    const settings = isLedgerSettings(given) ? given : undefined;
    const cap = settings?.dex.maxCommandsPerMinute ?? (given as ReleaseOneLimits | undefined)?.maxCommandsPerMinute;
    // Written when it changes, not on every call.
    if (Number.isInteger(cap) && cap! > 0 && cap !== this.#writtenCap) {
      this.#writtenCap = cap;
      this.#sql.exec("INSERT INTO limits (name, value) VALUES ('max_commands_per_minute', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", cap!);
    }
    if (settings) this.#handed = settings;
    return this.current();
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

function isLedgerSettings(given: unknown): given is LedgerSettings {
  const settings = given as Partial<LedgerSettings> | undefined;
  return typeof settings?.dex === "object" && settings.dex !== null && typeof settings.channels === "object" && settings.channels !== null;
}
