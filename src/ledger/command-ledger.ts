import { DurableObject } from "cloudflare:workers";
import { loadDexSettings, type DexSettings } from "../config/settings";
import { DexClient } from "../dispatch/dex/client";
import { isDexApiError, type DexApiError } from "../dispatch/dex/errors";
import { listCommandsSince } from "../dispatch/list-since";
import { sendCommands } from "../dispatch/send-commands";
import { logEvent, logProblem } from "../record/log";
import { admit, CAP_WINDOW_MS, USEFUL_WAIT_MS } from "./admission";
import { API_BUDGET_SCHEMA, ApiBudget } from "./api-budget";
import { ATTRIBUTION_MARGIN_MS, attributeLanded } from "./attribute";
import { CommandRows, COMMANDS_SCHEMA, commandOf, type CommandRow } from "./command-rows";
import type { LedgerCommand, LedgerEntry, LedgerResult, WaitSeconds } from "./contract";
import { listCommands, type CommandQuery, type ListedCommand } from "./list-commands";
import { answerFor, cooldownAnswer, ownResult } from "./outcomes";
import { retryDelaySeconds, RETRY_HORIZON_MS } from "./retry-schedule";

const LIMITS_SCHEMA = "CREATE TABLE IF NOT EXISTS limits (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/** What the consumer's configuration says about sending, given with every submit. */
export interface SubmitLimits {
  maxCommandsPerMinute: number;
}

/** Commands due within this long of each other go out in the same pass, in the same creates. */
const DUE_TOGETHER_MS = 1_000;
/** A create still marked `sending` this long after it left was cut off by a restart. */
const WATCHDOG_MS = 30_000;
/** While a created command is unfinished, its status is read at most this often. */
export const STATUS_POLL_INTERVAL_MS = 20_000;
/** A command just created is still PENDING_EXEC: its first status read waits this long. */
const FIRST_POLL_AFTER_MS = 10_000;
/** Statuses are followed for this long after a create; a capture that never reports is left as it was. */
const STATUS_HORIZON_MS = 2 * 3600_000;
/** Pages of 50 read per reconcile or status poll, at most. */
const MAX_LIST_PAGES = 5;

/**
 * The command ledger: one Durable Object per account, the one authority for every command
 * the relay means to send. It holds each command's key (episode × rule × device × type) and
 * state, the cooldowns, the per-minute cap, the API budget and each command's DEX status.
 *
 * A key is checked and claimed in one synchronous step with no await in between, so two
 * consumers, two locations or two retries can never both create it. The ledger makes the
 * creates itself, reconciles an uncertain one with `GET /dex/commands` at once, and retries
 * what did not land within seconds, on its alarm.
 */
export class CommandLedger extends DurableObject<Env> {
  readonly #rows: CommandRows;
  readonly #budget: ApiBudget;
  /** Keys this instance is working on now. A `sending` row outside it was left by a restart. */
  readonly #inFlight = new Set<string>();
  #lastPollAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(COMMANDS_SCHEMA + API_BUDGET_SCHEMA + LIMITS_SCHEMA);
    this.#rows = new CommandRows(ctx.storage.sql);
    this.#budget = new ApiBudget(ctx.storage.sql);
  }

  /**
   * Takes commands to send, once each: a key the ledger already holds is answered from what
   * it knows, a command inside its rule's cooldown is refused, everything else is claimed and
   * sent as far as the cap and the API allow before this returns. One answer per command.
   */
  async submit(commands: LedgerCommand[], limits: SubmitLimits): Promise<LedgerResult[]> {
    this.#rememberCap(limits.maxCommandsPerMinute);
    const settings = this.#settings();
    const now = Date.now();
    const answers = new Map<number, LedgerResult>();
    this.ctx.storage.transactionSync(() => {
      commands.forEach((command, i) => {
        const known = this.#rows.get(command.key);
        if (known) return answers.set(i, answerFor(known, command));
        const cooling = this.#rows.coolingDown(command.cooldown_key, now);
        if (cooling) return answers.set(i, cooldownAnswer(cooling, command));
        this.#rows.insert(command, now, Math.max(settings.idempotencyTtlSeconds * 1000, command.cooldown_minutes * 60_000));
      });
    });
    await this.#work(settings, { poll: false });
    return commands.map((command, i) => answers.get(i) ?? ownResult(this.#rows.get(command.key)!));
  }

  /** What `submit` would answer, without claiming or sending anything: for dry runs. */
  preview(commands: LedgerCommand[]): LedgerResult[] {
    const now = Date.now();
    const keys = new Set<string>();
    const cooldowns = new Set<string>();
    return commands.map((command): LedgerResult => {
      const known = this.#rows.get(command.key);
      if (known) return answerFor(known, command);
      if (keys.has(command.key)) return { key: command.key, outcome: "duplicate", reason: "the same alert episode appears earlier in this delivery" };
      keys.add(command.key);
      const cooling = this.#rows.coolingDown(command.cooldown_key, now);
      if (cooling) return cooldownAnswer(cooling, command);
      if (cooldowns.has(command.cooldown_key) && command.cooldown_minutes > 0) {
        return { key: command.key, outcome: "cooldown", reason: `another alert of this delivery already sends ${command.command.type} to this device` };
      }
      cooldowns.add(command.cooldown_key);
      const locked = this.#budget.lockedUntil(now);
      const reason = locked
        ? `every check passed; the DEX API is locking the token out until ${new Date(locked).toISOString()}, so it would be sent then`
        : "every check passed";
      return { key: command.key, outcome: "would-create", reason };
    });
  }

  /** Counts DEX API calls made outside the ledger (device searches): 0, or the seconds to wait. */
  takeApiCalls(calls: number): WaitSeconds {
    return this.#budget.take(calls, Date.now());
  }

  /** Any DEX call answered 429: every call, the ledger's own included, waits `seconds`. */
  lockOut(seconds: number): void {
    this.#budget.lockOut(seconds, Date.now());
  }

  /** The commands a delivery owns, and those it found already sent (by command id), for the audit trail. */
  describe(deliveryId: string, commandIds: readonly string[]): LedgerEntry[] {
    const rows = new Map(this.#rows.byDelivery(deliveryId).map((row) => [row.key, row]));
    for (const id of commandIds) {
      const row = this.#rows.byCommandId(id);
      if (row) rows.set(row.key, row);
    }
    return [...rows.values()].map(entryOf);
  }

  /** The commands it holds, newest first, with their DEX status: for operators (./list-commands.ts). */
  listCommands(query: CommandQuery): { commands: ListedCommand[]; cursor: string | null } {
    return listCommands(this.ctx.storage.sql, query);
  }

  /** Retries what is due, sends what the cap now admits, finds creates a restart cut off, and polls statuses. */
  override async alarm(): Promise<void> {
    await this.#work(this.#settings(), { poll: true });
  }

  #settings(): DexSettings {
    const loaded = loadDexSettings(this.env);
    // Thrown to the consumer (its message is retried) or to the alarm (retried by the runtime).
    if (!loaded.ok) throw new Error(`relay configuration is invalid: ${loaded.error}`);
    const cap = this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").toArray()[0];
    return cap ? { ...loaded.settings, maxCommandsPerMinute: cap.value } : loaded.settings;
  }

  /**
   * The cap comes with each submit, as the consumer read it: during a deploy the consumer
   * and the ledger may run different versions, and the consumer's configuration is the one
   * that was checked. The alarm keeps applying the last one given.
   */
  #rememberCap(maxCommandsPerMinute: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO limits (name, value) VALUES ('max_commands_per_minute', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      maxCommandsPerMinute,
    );
  }

  #api(settings: DexSettings): DexClient {
    return new DexClient({
      baseUrl: settings.dexApiBase,
      accountId: settings.accountId,
      token: settings.dexApiToken,
      gate: {
        take: (calls) => this.#budget.take(calls, Date.now()),
        lockOut: (seconds) => this.#budget.lockOut(seconds, Date.now()),
      },
    });
  }

  async #work(settings: DexSettings, options: { poll: boolean }): Promise<void> {
    const api = this.#api(settings);
    const now = Date.now();
    this.#rows.deleteExpired(now);
    this.#admit(settings, now);
    const due = this.#rows.due(now + DUE_TOGETHER_MS).filter((row) => !this.#inFlight.has(row.key));
    for (const row of due) this.#inFlight.add(row.key);
    try {
      if (due.length > 0) await this.#send(api, due);
      if (options.poll) await this.#pollStatuses(api);
    } finally {
      for (const row of due) this.#inFlight.delete(row.key);
      await this.#scheduleAlarm();
    }
  }

  /** Lets waiting commands past the per-minute cap; expires the ones that waited too long to be useful. */
  #admit(settings: DexSettings, now: number): void {
    const waiting = this.#rows.notAdmitted();
    if (waiting.length === 0) return;
    const since = now - CAP_WINDOW_MS;
    const admitted = new Set(admit(waiting, this.#rows.admittedSince(since), settings.maxCommandsPerMinute));
    for (const key of admitted) this.#rows.update(key, { admitted_at: now, next_at: now });
    const slotFreesAt = (this.#rows.firstAdmittedSince(since) ?? now) + CAP_WINDOW_MS;
    for (const row of waiting) {
      if (admitted.has(row.key)) continue;
      if (now - row.queued_at >= USEFUL_WAIT_MS) {
        const reason = `MAX_COMMANDS_PER_MINUTE (${settings.maxCommandsPerMinute}) had no room for it within ${USEFUL_WAIT_MS / 60_000} minutes of the alert`;
        this.#rows.update(row.key, { state: "expired", reason, next_at: null, cooldown_until: null });
        this.#log("capped", row, { reason });
      } else {
        this.#rows.update(row.key, {
          next_at: slotFreesAt,
          reason: `held by MAX_COMMANDS_PER_MINUTE (${settings.maxCommandsPerMinute}); sent when a slot frees, within ${USEFUL_WAIT_MS / 60_000} minutes of the alert`,
        });
      }
    }
  }

  /** Sends due commands: those that may have landed already are looked up first, never created twice. */
  async #send(api: DexClient, due: CommandRow[]): Promise<void> {
    const unchecked = due.filter((row) => row.state === "uncertain" || row.state === "sending");
    const ready = due.filter((row) => row.state === "waiting");
    if (unchecked.length > 0) ready.push(...(await this.#reconcile(api, unchecked, "before sending again")));
    if (ready.length === 0) return;

    const sentAt = Date.now();
    for (const row of ready) {
      this.#rows.update(row.key, { state: "sending", attempts: row.attempts + 1, first_sent_at: row.first_sent_at ?? sentAt, last_sent_at: sentAt });
    }
    // Should this instance die mid-create, the alarm finds the `sending` rows and reconciles them.
    await this.#scheduleAlarm();
    const { results } = await sendCommands(api, ready.map(commandOf));

    const uncertain: CommandRow[] = [];
    const errors = new Map<string, string>();
    const answeredAt = Date.now();
    results.forEach((result, i) => {
      const row = this.#rows.get(ready[i]!.key)!;
      switch (result.state) {
        case "created":
          return this.#created(row, result.command_id, "command created");
        case "failed":
          this.#rows.update(row.key, { state: "failed", reason: result.error, next_at: null, cooldown_until: null });
          return this.#log("failed", row, { reason: result.error });
        case "rate-limited": {
          // Nothing was created: this send does not count as an attempt.
          const reason = `the DEX API asked to wait ${result.retryAfterSeconds} s; sending then`;
          this.#rows.update(row.key, { state: "waiting", attempts: row.attempts - 1, reason, next_at: answeredAt + result.retryAfterSeconds * 1000 });
          return this.#log("waiting", row, { reason });
        }
        case "uncertain":
          uncertain.push(row);
          errors.set(row.key, result.error);
      }
    });
    // Ask at once whether an uncertain create landed; what did not is retried within seconds.
    if (uncertain.length === 0) return;
    for (const row of await this.#reconcile(api, uncertain, "after the create failed")) {
      this.#retryLater(row, `${errors.get(row.key)}; it did not land`);
    }
  }

  /**
   * Looks up creates that may have landed. Those found are recorded as created; the rest
   * are returned. When the API cannot say, the rows wait as `uncertain` and none is returned.
   */
  async #reconcile(api: DexClient, rows: CommandRow[], when: string): Promise<CommandRow[]> {
    const from = Math.min(...rows.map((row) => row.first_sent_at ?? row.queued_at)) - ATTRIBUTION_MARGIN_MS;
    let listed;
    try {
      listed = await listCommandsSince(api, from, MAX_LIST_PAGES);
    } catch (error) {
      if (!isDexApiError(error)) throw error;
      for (const row of rows) this.#couldNotCheck(row, error);
      return [];
    }
    const unconfirmed = rows.map((row) => {
      const command = commandOf(row);
      return {
        key: row.key,
        device_id: command.device_id,
        registration_id: command.registration_id,
        user_email: command.user_email,
        type: command.type,
        first_sent_at: row.first_sent_at ?? row.queued_at,
        last_sent_at: row.last_sent_at ?? row.queued_at,
      };
    });
    const landed = attributeLanded(unconfirmed, listed, this.#rows.knownCommandIds());
    const notLanded: CommandRow[] = [];
    for (const row of rows) {
      const commandId = landed.get(row.key);
      if (commandId) this.#created(this.#rows.get(row.key)!, commandId, `an earlier create had landed; found it ${when} instead of creating again`);
      else notLanded.push(this.#rows.get(row.key)!);
    }
    return notLanded;
  }

  #created(row: CommandRow, commandId: string, reason: string): void {
    const now = Date.now();
    const cooldownMs = row.cooldown_until === null ? 0 : row.cooldown_until - row.queued_at;
    this.#rows.update(row.key, {
      state: "created",
      command_id: commandId,
      created_at: now,
      status: "PENDING_EXEC",
      reason,
      next_at: null,
      cooldown_until: cooldownMs > 0 ? now + cooldownMs : null,
    });
    this.#log("created", row, { command_id: commandId, reason });
  }

  /** The create did not land: try again soon, unless the capture has stopped being worth it. */
  #retryLater(row: CommandRow, error: string): void {
    const now = Date.now();
    if (now - row.queued_at >= RETRY_HORIZON_MS) {
      const reason = `gave up after ${row.attempts} attempts over ${RETRY_HORIZON_MS / 60_000} minutes (last: ${error})`;
      this.#rows.update(row.key, { state: "failed", reason, next_at: null, cooldown_until: null });
      return this.#log("failed", row, { reason });
    }
    const delay = retryDelaySeconds(row.attempts);
    const reason = `${error}; retrying in ${delay} s`;
    this.#rows.update(row.key, { state: "uncertain", reason, next_at: now + delay * 1000 });
    this.#log("retry-scheduled", row, { reason, attempts: row.attempts, delay_seconds: delay });
  }

  /** The API could not say whether a create landed: ask again later, never create blindly. */
  #couldNotCheck(row: CommandRow, error: DexApiError): void {
    if (Date.now() - row.queued_at >= RETRY_HORIZON_MS) {
      const reason = `gave up after ${RETRY_HORIZON_MS / 60_000} minutes without learning whether the create landed (last: ${error.message})`;
      this.#rows.update(row.key, { state: "failed", reason, next_at: null, cooldown_until: null });
      return this.#log("failed", row, { reason });
    }
    const delay = error.kind === "rate-limited" ? (error.retryAfterSeconds ?? 60) : retryDelaySeconds(Math.max(1, row.attempts));
    const reason = `could not check whether the create landed: ${error.message}; checking again in ${delay} s`;
    this.#rows.update(row.key, { state: "uncertain", reason, next_at: Date.now() + delay * 1000 });
    this.#log("check-postponed", row, { reason });
  }

  /** Reads the DEX status of unfinished commands, a few times a minute at most, within the API budget. */
  async #pollStatuses(api: DexClient): Promise<void> {
    const now = Date.now();
    const pollAt = this.#nextPollAt(now);
    if (pollAt === undefined || pollAt > now) return;
    const open = this.#rows.unfinished(now - STATUS_HORIZON_MS);
    this.#lastPollAt = now;
    let listed;
    try {
      listed = await listCommandsSince(api, Math.min(...open.map((row) => row.created_at ?? now)) - ATTRIBUTION_MARGIN_MS, MAX_LIST_PAGES);
    } catch (error) {
      if (!isDexApiError(error)) throw error;
      return logProblem("status-poll-failed", { error: error.message });
    }
    const byId = new Map(listed.map((command) => [command.id, command]));
    for (const row of open) {
      const listedCommand = byId.get(row.command_id!);
      if (!listedCommand?.status || listedCommand.status === row.status) continue;
      this.#rows.update(row.key, {
        status: listedCommand.status,
        filename: listedCommand.filename ?? null,
        completed_date: listedCommand.completed_date ?? null,
      });
      this.#log("status", row, { command_id: row.command_id ?? undefined, status: listedCommand.status });
    }
  }

  /** Sets the alarm for the earliest thing waiting: a retry, a free slot, a status poll, a create in flight. */
  async #scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const times = [this.#rows.nextDue(), this.#nextPollAt(now), this.#rows.hasSending() ? now + WATCHDOG_MS : undefined];
    const due = times.filter((t): t is number => t !== undefined);
    const at = due.length > 0 ? Math.max(now, Math.min(...due)) : null;
    if ((await this.ctx.storage.getAlarm()) === at) return;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /** A command is first asked about once it has had time to run; then every poll interval. */
  #nextPollAt(now: number): number | undefined {
    const oldest = this.#rows.unfinished(now - STATUS_HORIZON_MS)[0];
    if (!oldest?.created_at) return undefined;
    return Math.max(oldest.created_at + FIRST_POLL_AFTER_MS, this.#lastPollAt + STATUS_POLL_INTERVAL_MS);
  }

  #log(event: string, row: CommandRow, details: Record<string, string | number | undefined>): void {
    logEvent(`ledger-${event}`, { delivery_id: row.delivery_id, alert: row.alert, rule: row.rule, type: commandOf(row).type, ...details });
  }
}

function entryOf(row: CommandRow): LedgerEntry {
  const command = commandOf(row);
  return {
    ...ownResult(row),
    delivery_id: row.delivery_id,
    alert: row.alert,
    rule: row.rule,
    type: command.type,
    device_id: command.device_id,
    attempts: row.attempts,
    ...(row.device_name ? { device_name: row.device_name } : {}),
    ...(row.status ? { status: row.status } : {}),
    ...(row.filename ? { filename: row.filename } : {}),
    ...(row.completed_date ? { completed_date: row.completed_date } : {}),
    ...(row.created_at ? { created_at: new Date(row.created_at).toISOString() } : {}),
  };
}
