/**
 * The per-minute command cap (`MAX_COMMANDS_PER_MINUTE`), shared fairly. Commands the cap
 * holds back wait for a later minute instead of being dropped, the most severe first, for
 * as long as a capture is still useful.
 */

/** A command held back by the cap is recorded as capped once it has waited this long. */
export const USEFUL_WAIT_MS = 10 * 60_000;
/** The cap counts commands admitted in the last minute, sliding. */
export const CAP_WINDOW_MS = 60_000;
/**
 * The share of each minute's commands kept for the other sources: one sender (a leaked
 * token, a noisy Zap) cannot use up the minute before a P1 from another tool arrives.
 */
export const RESERVED_FOR_OTHER_SOURCES = 0.25;

export interface Waiting {
  key: string;
  source: string;
  severity_rank: number;
  queued_at: number;
}

/** The most one source may have admitted in one window. */
export function perSourceCap(cap: number): number {
  return Math.max(1, cap - Math.floor(cap * RESERVED_FOR_OTHER_SOURCES));
}

/**
 * Which waiting commands the cap admits now, given the sources of the commands admitted in
 * the last minute. Most severe first, then oldest first.
 */
export function admit(waiting: readonly Waiting[], admittedInWindow: readonly string[], cap: number): string[] {
  let total = admittedInWindow.length;
  const bySource = new Map<string, number>();
  for (const source of admittedInWindow) bySource.set(source, (bySource.get(source) ?? 0) + 1);
  const sourceCap = perSourceCap(cap);
  const admitted: string[] = [];
  const ordered = [...waiting].sort((a, b) => a.severity_rank - b.severity_rank || a.queued_at - b.queued_at);
  for (const command of ordered) {
    if (total >= cap) break;
    const used = bySource.get(command.source) ?? 0;
    if (used >= sourceCap) continue;
    bySource.set(command.source, used + 1);
    total++;
    admitted.push(command.key);
  }
  return admitted;
}
