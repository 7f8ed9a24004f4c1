/**
 * When a report that could not be delivered is tried again: soon at first, then patiently,
 * so a receiver that is down for an hour still gets it when it is back.
 */
export const REPORT_RETRY_SECONDS = [10, 30, 60, 120, 300, 600] as const;
export const REPORT_SLOW_RETRY_SECONDS = 1800;
/** A report not delivered within this long of being written is recorded as failed. */
export const REPORT_HORIZON_MS = 24 * 3600_000;

export function reportRetrySeconds(attempts: number): number {
  return REPORT_RETRY_SECONDS[attempts - 1] ?? REPORT_SLOW_RETRY_SECONDS;
}
