import type { DexSettings } from "../config/settings";
import { admit, CAP_WINDOW_MS } from "./admission";
import type { CommandEffects } from "./command-effects";
import type { CommandRow, CommandRows } from "./command-rows";
import type { AccountQuota } from "./quota";

/**
 * Lets commands out of waiting: under the per-minute cap, shared fairly (./admission.ts), and
 * only while the account's command quota is not spent. What waiting does to a command (wait
 * for a slot, or expire once no longer useful) is the state machine's to say (./transitions.ts).
 */
export class Admission {
  readonly #rows: CommandRows;
  readonly #quota: AccountQuota;
  readonly #effects: CommandEffects;

  constructor(rows: CommandRows, quota: AccountQuota, effects: CommandEffects) {
    this.#rows = rows;
    this.#quota = quota;
    this.#effects = effects;
  }

  /** Lets waiting commands past the per-minute cap; the rest wait for a slot, or expire (./transitions.ts). */
  admit(settings: DexSettings, now: number): void {
    const waiting = this.#rows.notAdmitted();
    if (waiting.length === 0 || this.holdForQuota(waiting, now)) return;
    const since = now - CAP_WINDOW_MS;
    const admitted = new Set(admit(waiting, this.#rows.admittedSince(since), settings.maxCommandsPerMinute));
    for (const row of waiting) if (admitted.has(row.key)) this.#effects.apply(row, { type: "admitted" }, now);
    const slotFreesAt = (this.#rows.firstAdmittedSince(since) ?? now) + CAP_WINDOW_MS;
    for (const row of waiting) {
      if (!admitted.has(row.key)) this.#effects.apply(row, { type: "held-by-cap", cap: settings.maxCommandsPerMinute, slot_frees_at: slotFreesAt }, now);
    }
  }

  /** While the account's quota is spent, these wait for its reset (or expire); says whether it is spent. */
  holdForQuota(rows: readonly CommandRow[], now = Date.now()): boolean {
    const spentUntil = this.#quota.spentUntil(now);
    if (spentUntil === undefined) return false;
    for (const row of rows) this.#effects.apply(row, { type: "held-by-quota", spent_until: spentUntil }, now);
    return true;
  }
}
