import type { DexClient } from "../dispatch/dex-client";
import { listCommandsSince } from "../dispatch/list-since";
import { isDexApiError } from "../model/dex-api-error";
import { logProblem } from "../record/log";
import { ATTRIBUTION_MARGIN_MS } from "./attribute";
import type { CommandEffects } from "./command-effects";
import type { CommandRows } from "./command-rows";
import { MAX_LIST_PAGES } from "./command-sender";

/** While a created command is unfinished, its status is read at most this often. */
export const STATUS_POLL_INTERVAL_MS = 20_000;
/** A command just created is still PENDING_EXEC: its first status read waits this long. */
const FIRST_POLL_AFTER_MS = 10_000;
/** Statuses are followed for this long after a create; a capture that never reports is left as it was. */
const STATUS_HORIZON_MS = 2 * 3600_000;

/**
 * Follows the commands the ledger created until they finish: one paged read of the account's
 * recent commands answers for all of them, a few times a minute at most, within the API
 * budget. What a status does to a command is the state machine's to say (./transitions.ts).
 */
export class StatusPoller {
  readonly #rows: CommandRows;
  readonly #effects: CommandEffects;
  #lastPollAt = 0;

  constructor(rows: CommandRows, effects: CommandEffects) {
    this.#rows = rows;
    this.#effects = effects;
  }

  /** Reads the DEX status of unfinished commands, a few times a minute at most, within the API budget. */
  async poll(api: DexClient): Promise<void> {
    const now = Date.now();
    const pollAt = this.nextPollAt(now);
    if (pollAt === undefined || pollAt > now) return;
    const open = this.#rows.unfinished(now - STATUS_HORIZON_MS);
    this.#lastPollAt = now;
    let listed: Awaited<ReturnType<typeof listCommandsSince>>;
    try {
      listed = await listCommandsSince(api, Math.min(...open.map((row) => row.created_at ?? now)) - ATTRIBUTION_MARGIN_MS, MAX_LIST_PAGES);
    } catch (error) {
      if (!isDexApiError(error)) throw error;
      return logProblem("status-poll-failed", { error: error.message });
    }
    const byId = new Map(listed.map((command) => [command.id, command]));
    for (const row of open) {
      const { status, filename = null, completed_date = null } = byId.get(row.command_id!) ?? {};
      if (status) this.#effects.apply(row, { type: "status-polled", status, filename, completed_date }, Date.now());
    }
  }

  /** A command is first asked about once it has had time to run; then every poll interval. */
  nextPollAt(now: number): number | undefined {
    const oldest = this.#rows.unfinished(now - STATUS_HORIZON_MS)[0];
    if (!oldest?.created_at) return undefined;
    return Math.max(oldest.created_at + FIRST_POLL_AFTER_MS, this.#lastPollAt + STATUS_POLL_INTERVAL_MS);
  }
}
