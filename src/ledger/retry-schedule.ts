/**
 * When the ledger tries a command again after the DEX API failed in a way that may pass
 * (5xx, timeout, lost connection): quickly at first, because the capture is only useful
 * while the problem lasts, then at a slower pace, then never.
 */

/** Delays after the first, second, third and fourth failed attempt. */
export const QUICK_RETRY_SECONDS = [2, 4, 8, 16] as const;
/** The pace once the quick retries are spent. */
export const SLOW_RETRY_SECONDS = 60;
/** A command that could not be created within this long of its alert is recorded as failed. */
export const RETRY_HORIZON_MS = 30 * 60_000;

/** Seconds to wait after `attempts` failed attempts. */
export function retryDelaySeconds(attempts: number): number {
  return QUICK_RETRY_SECONDS[attempts - 1] ?? SLOW_RETRY_SECONDS;
}
