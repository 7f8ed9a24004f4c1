import { accountIdOf } from "../config/settings";
import type { CounterIncrement } from "../model/metrics";
import { commandLedger, type LedgerStub } from "./ledger-stub";

/**
 * The account's command ledger for counting and for reading the counts, which needs only
 * the account id (as the settings read it): the relay's numbers stay readable while its other
 * settings, the DEX token say, are broken. Undefined while there is no account id.
 */
export function metricsLedger(env: Env): LedgerStub | undefined {
  const accountId = accountIdOf(env);
  return accountId ? commandLedger(env, accountId) : undefined;
}

/**
 * Adds counts to the account's command ledger, where `GET /metrics` reads them: one request
 * for any number of increments. Throws when the ledger could not be reached, so the caller
 * keeps the counts for its next write. Without an account id there is no ledger to count in;
 * the counts are dropped (the health check says what to fix).
 */
export async function countInLedger(env: Env, increments: CounterIncrement[]): Promise<void> {
  const ledger = metricsLedger(env);
  if (!ledger || increments.length === 0) return;
  await ledger.count(increments);
}
