import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import type { LedgerSettings } from "../../src/config/ledger-settings";
import { loadLedgerSettings } from "../../src/config/settings";
import { RELAY } from "./relay";

/** The account id the test configuration uses (vitest.config.ts). */
export const TEST_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";

/**
 * The settings the Worker hands the ledger, read from the test configuration (or a copy of it
 * with `overrides`), as a route or the consumer would.
 */
export function handedSettings(overrides: Partial<Record<keyof Env, unknown>> = {}): LedgerSettings {
  const loaded = loadLedgerSettings({ ...env, ...overrides } as Env);
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.settings;
}

/** The account's command ledger, as the relay reaches it. */
export function ledger() {
  return env.COMMAND_LEDGER.get(env.COMMAND_LEDGER.idFromName(TEST_ACCOUNT_ID));
}

/**
 * Moves the clock to the ledger's alarm and runs it, as the runtime would when its time
 * comes. The clock is faked from here on (Date only: timeouts stay real); isolateEachTest
 * puts it back after each test.
 */
export async function runLedgerAlarm(): Promise<boolean> {
  const stub = ledger();
  const at = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
  if (at === null) return false;
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  if (at > Date.now()) vi.setSystemTime(at);
  return runDurableObjectAlarm(stub);
}

/**
 * Fakes the clock a day ahead of the real one, for a whole test. The runtime fires a Durable
 * Object's alarm by itself once the real clock reaches it; with every time the ledger sets
 * in the faked future, only the test runs the ledger's alarms, one at a time, when it says.
 */
export function holdLedgerClock(): void {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 24 * 3600_000 });
}

/** Moves the faked clock on by `ms`. */
export function advanceClock(ms: number): void {
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  vi.setSystemTime(Date.now() + ms);
}

/** Commands the ledger holds that are not final yet: waiting, sending or uncertain. */
export async function unsettledCommands(): Promise<number> {
  return runInDurableObject(
    ledger(),
    (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM commands WHERE state IN ('waiting', 'sending', 'uncertain')").one().n,
  );
}

/** Runs the ledger's alarms, moving the clock along, until every command it holds is final. */
export async function settleLedger(maxAlarms = 50): Promise<number> {
  let ran = 0;
  while (ran < maxAlarms && (await unsettledCommands()) > 0) {
    if (!(await runLedgerAlarm())) break;
    ran++;
  }
  return ran;
}

/** The audit API's view of a delivery: the record brought up to date from the ledger. */
export async function currentDelivery(id: string): Promise<Record<string, any>> {
  const res = await exports.default.fetch(`${RELAY}/v1/deliveries/${id}`, { headers: { authorization: "Bearer admin-test-token" } });
  if (res.status !== 200) throw new Error(`GET /v1/deliveries/${id} answered ${res.status}`);
  return res.json();
}
