import { loadDexSettings } from "../config/settings";
import { commandLedger } from "../ledger/ledger-stub";
import type { QuotaStatus } from "../ledger/quota";
import { logProblem } from "../record/log";

/**
 * The account's DEX command quota as the command ledger last read it, for `GET /healthz` and
 * the console; null when the relay cannot say (no valid DEX settings, or the ledger did not
 * answer). It never calls the DEX API, not even when nothing was read yet: /healthz answers
 * anyone and is polled by uptime monitors, and a read per request would spend the budget the
 * alerts need, and retry a failing read on every request. The ledger reads the quota when it
 * first sends a command, and every few minutes while it is at work; until then the fields
 * are null.
 */
export async function readQuotaStatus(env: Env): Promise<QuotaStatus | null> {
  const settings = loadDexSettings(env);
  if (!settings.ok) return null;
  try {
    return await commandLedger(env, settings.settings.accountId).quotaStatus();
  } catch (error) {
    logProblem("quota-status-unavailable", { error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}
