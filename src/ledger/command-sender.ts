import type { DexSettings } from "../config/settings";
import { DexClient, type ApiGate } from "../dispatch/dex-client";
import { listCommandsSince } from "../dispatch/list-since";
import { sendCommands } from "../dispatch/send-commands";
import { isDexApiError } from "../model/dex-api-error";
import { logProblem } from "../record/log";
import type { Admission } from "./admission-gate";
import { ATTRIBUTION_MARGIN_MS, attributeLanded } from "./attribute";
import { commandOf, type CommandRow, type CommandRows } from "./command-rows";
import type { AccountQuota } from "./quota";
import type { CommandEffects } from "./command-effects";
import type { CommandEvent } from "./transitions";

/** A create still marked `sending` this long after it left was cut off by a restart. */
export const WATCHDOG_MS = 30_000;
/** Commands due within this long of each other go out in the same pass, in the same creates. */
const DUE_TOGETHER_MS = 1_000;
/** Pages of 50 read per reconcile or status poll, at most. */
export const MAX_LIST_PAGES = 5;

/**
 * The command ledger's creates: it sends the commands that are due, in as few creates as the
 * API allows, and reconciles creates that may have landed, so that none is made twice. What
 * each answer does to a command is the state machine's to say (./transitions.ts); `effects`
 * writes it and does what it asks (logs, counts) and returns what is left to do here (send,
 * reconcile).
 */
export class CommandSender {
  /** Keys a pass of this instance is sending now. A `sending` row outside it was left by a restart. */
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly rows: CommandRows,
    private readonly quota: AccountQuota,
    private readonly admission: Admission,
    private readonly effects: CommandEffects,
    /** The ledger's API budget: every call of the ledger's own is paid for from it. */
    private readonly gate: ApiGate,
    /** Runs once the commands of a create are marked `sending`, before it leaves: the ledger sets its watchdog alarm. */
    private readonly beforeCreate: () => Promise<void>,
  ) {}

  /** A client for one pass, with the settings the ledger works with now. */
  client(settings: DexSettings): DexClient {
    return new DexClient({ baseUrl: settings.dexApiBase, accountId: settings.accountId, token: settings.dexApiToken, gate: this.gate });
  }

  /**
   * The commands due now, and within a second (they go out in the same creates), that no
   * other pass of this instance holds (an alarm while a submit sends): held until released.
   */
  takeDue(now: number): CommandRow[] {
    const due = this.rows.due(now + DUE_TOGETHER_MS).filter((row) => !this.#inFlight.has(row.key));
    for (const row of due) this.#inFlight.add(row.key);
    return due;
  }

  release(rows: readonly CommandRow[]): void {
    for (const row of rows) this.#inFlight.delete(row.key);
  }

  /** Sends due commands: those that may have landed already are looked up first, never created twice. */
  async send(api: DexClient, due: CommandRow[]): Promise<void> {
    const toSend = (row: CommandRow, event: CommandEvent) => this.effects.apply(row, event, Date.now()).some((effect) => effect.do === "send");
    const ready = due.filter((row) => toSend(row, { type: "due" }));
    const unchecked = due.filter((row) => row.state !== "waiting");
    if (unchecked.length > 0)
      ready.push(...(await this.#reconcile(api, unchecked, "before sending again")).filter((row) => toSend(row, { type: "reconcile-not-found" })));
    // Spent since these were admitted (a refusal, a read): what did not land waits for the reset.
    if (ready.length === 0 || this.admission.holdForQuota(ready)) return;
    const sentAt = Date.now();
    for (const row of ready) this.effects.apply(row, { type: "sent" }, sentAt);
    // Should this instance die mid-create, the alarm finds the `sending` rows and reconciles them.
    await this.beforeCreate();
    const { results } = await sendCommands(api, ready.map(commandOf));

    const uncertain: Array<{ row: CommandRow; error: string }> = [];
    const answeredAt = Date.now();
    let spentUntil: number | undefined;
    results.forEach((result, i) => {
      const row = this.rows.get(ready[i]!.key)!;
      if (result.state === "quota-spent" && spentUntil === undefined) {
        spentUntil = this.quota.refused(answeredAt);
        logProblem("dex-quota-spent", { until: new Date(spentUntil).toISOString(), error: result.error });
      }
      const event: CommandEvent =
        result.state === "created"
          ? { type: "create-created", command_id: result.command_id }
          : result.state === "failed"
            ? { type: "create-failed", error: result.error }
            : result.state === "rate-limited"
              ? { type: "create-rate-limited", retry_after_seconds: result.retryAfterSeconds }
              : result.state === "quota-spent"
                ? { type: "create-quota-spent", spent_until: spentUntil! }
                : { type: "create-uncertain", error: result.error };
      const effects = this.effects.apply(row, event, answeredAt);
      if (event.type === "create-uncertain" && effects.some((effect) => effect.do === "reconcile")) uncertain.push({ row, error: event.error });
    });
    // Ask at once whether an uncertain create landed; what did not is retried within seconds.
    if (uncertain.length === 0) return;
    const errors = new Map(uncertain.map(({ row, error }) => [row.key, error]));
    for (const row of await this.#reconcile(
      api,
      uncertain.map(({ row }) => row),
      "after the create failed",
    )) {
      this.effects.apply(row, { type: "reconcile-not-found", error: errors.get(row.key)! }, Date.now());
    }
  }

  /**
   * Looks up creates that may have landed. Those found are recorded as created; the rest
   * are returned. When the API cannot say, the rows wait as `uncertain` and none is returned.
   */
  async #reconcile(api: DexClient, rows: CommandRow[], when: string): Promise<CommandRow[]> {
    const from = Math.min(...rows.map((row) => row.first_sent_at ?? row.queued_at)) - ATTRIBUTION_MARGIN_MS;
    let listed: Awaited<ReturnType<typeof listCommandsSince>>;
    try {
      listed = await listCommandsSince(api, from, MAX_LIST_PAGES);
    } catch (error) {
      if (!isDexApiError(error)) throw error;
      for (const row of rows) this.effects.apply(row, { type: "reconcile-could-not-check", error }, Date.now());
      return [];
    }
    const unconfirmed = rows.map((row) => {
      const { device_id, registration_id, user_email, type } = commandOf(row);
      const window = { first_sent_at: row.first_sent_at ?? row.queued_at, last_sent_at: row.last_sent_at ?? row.queued_at };
      return { key: row.key, device_id, registration_id, user_email, type, ...window };
    });
    const landed = attributeLanded(unconfirmed, listed, this.rows.knownCommandIds());
    const notLanded: CommandRow[] = [];
    for (const row of rows) {
      const commandId = landed.get(row.key);
      if (commandId) this.effects.apply(this.rows.get(row.key)!, { type: "reconcile-found", command_id: commandId, when }, Date.now());
      else notLanded.push(this.rows.get(row.key)!);
    }
    return notLanded;
  }
}
