import { DurableObject } from "cloudflare:workers";
import { loadDexSettings, type DexSettings } from "../config/settings";
import { DexClient } from "../dispatch/dex-client";
import { listCommandsSince } from "../dispatch/list-since";
import { sendCommands } from "../dispatch/send-commands";
import type { ApprovalAnswer, ApprovalDecision } from "../model/approval";
import { isDexApiError } from "../model/dex-api-error";
import type { CounterIncrement } from "../model/metrics";
import { logEvent, logProblem } from "../record/log";
import { readChannels } from "../report/channels";
import { ReportOutbox } from "../report/report-outbox";
import { admit, CAP_WINDOW_MS } from "./admission";
import { ApiBudget } from "./api-budget";
import { Approvals, type Decider } from "./approvals";
import { ATTRIBUTION_MARGIN_MS, attributeLanded } from "./attribute";
import { CommandRows, commandOf, type CommandRow } from "./command-rows";
import type { DeliveryView, LedgerCommand, LedgerResult, MadeCommand, WaitSeconds } from "./contract";
import { LedgerMetrics, type LedgerMetricsSnapshot } from "./ledger-metrics";
import { listCommands, type CommandQuery, type ListedCommand } from "./list-commands";
import { migrateLedger } from "./migrate";
import { answerFor, cooldownAnswer, ownResult } from "./outcomes";
import { preview } from "./preview";
import { AccountQuota, refreshQuota, type QuotaStatus } from "./quota";
import { queueReports } from "./queue-reports";
import { entryOf, madeCommandOf } from "./row-views";
import { readySince, type CommandEvent, type Effect } from "./transitions";

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
 * what did not land within seconds, on its alarm. What each answer does to a command is
 * decided in ./transitions.ts; this class reads the rows, calls the API and writes that.
 */
export class CommandLedger extends DurableObject<Env> {
  readonly #rows: CommandRows;
  readonly #budget: ApiBudget;
  readonly #outbox: ReportOutbox;
  readonly #quota: AccountQuota;
  readonly #approvals: Approvals;
  readonly #metrics: LedgerMetrics;
  /** Keys this instance is working on now. A `sending` row outside it was left by a restart. */
  readonly #inFlight = new Set<string>();
  #lastPollAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Before any request or alarm reaches it: a ledger written by an earlier release is
    // brought up to this release's schema first (./migrate.ts).
    void ctx.blockConcurrencyWhile(async () => {
      migrateLedger(ctx.storage);
    });
    this.#rows = new CommandRows(ctx.storage.sql);
    this.#budget = new ApiBudget(ctx.storage.sql);
    this.#quota = new AccountQuota(ctx.storage.sql);
    this.#approvals = new Approvals(ctx.storage.sql, this.#rows);
    this.#metrics = new LedgerMetrics(ctx.storage.sql, this.#budget, this.#quota);
    this.#outbox = new ReportOutbox(ctx.storage.sql, (channel, result) => this.#metrics.report(channel, result));
    // Said once as the ledger starts, so an operator sees which reports will not be sent.
    for (const { channel, reason } of readChannels(env).off) logEvent("report-channel-off", { channel, reason });
  }

  /**
   * Takes commands to send, once each: a key the ledger already holds is answered from what
   * it knows, a command inside its rule's cooldown is refused, everything else is claimed and
   * sent as far as the cap and the API allow before this returns. One answer per command.
   */
  async submit(commands: LedgerCommand[], limits: SubmitLimits): Promise<LedgerResult[]> {
    // The cap comes with each submit, as the consumer read and checked it (during a deploy the
    // consumer and the ledger may run different versions); the alarm keeps applying the last one.
    this.ctx.storage.sql.exec(
      "INSERT INTO limits (name, value) VALUES ('max_commands_per_minute', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      limits.maxCommandsPerMinute,
    );
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
        if (command.approval) this.#do(this.#rows.get(command.key)!, this.#approvals.hold(command.key, command.approval, now), now);
      });
    });
    await this.#work(settings, { poll: false });
    return commands.map((command, i) => answers.get(i) ?? ownResult(this.#rows.get(command.key)!));
  }

  /** What `submit` would answer, without claiming or sending anything: for dry runs. */
  preview(commands: LedgerCommand[]): LedgerResult[] {
    return preview(commands, this.#rows, this.#budget, this.#quota, Date.now());
  }

  /** Counts DEX API calls made outside the ledger (device searches): 0, or the seconds to wait. */
  takeApiCalls(calls: number): WaitSeconds {
    return this.#budget.take(calls, Date.now());
  }

  /** Any DEX call answered 429: every call, the ledger's own included, waits `seconds`. */
  lockOut(seconds: number): void {
    const now = Date.now();
    this.#metrics.lockout(this.#budget.lockedUntil(now) !== undefined);
    this.#budget.lockOut(seconds, now);
  }

  /** Adds what ingest and the queue consumer counted, in one step (../model/metrics.ts names them). */
  count(increments: CounterIncrement[]): { refused?: string } {
    return this.#metrics.addAll(increments);
  }

  /** The ledger's counters and gauges, for `GET /metrics`. */
  metrics(): LedgerMetricsSnapshot {
    return this.#metrics.snapshot(Date.now());
  }

  /** The account's DEX command quota as last read, for `GET /healthz` and the console: no API call. */
  quotaStatus(): QuotaStatus {
    return this.#quota.status(Date.now());
  }

  /** The commands a delivery owns, those it found already sent (by command id), and the reports about them. */
  describe(deliveryId: string, commandIds: readonly string[]): DeliveryView {
    const rows = new Map(this.#rows.byDelivery(deliveryId).map((row) => [row.key, row]));
    for (const id of commandIds) {
      const row = this.#rows.byCommandId(id);
      if (row) rows.set(row.key, row);
    }
    return { commands: [...rows.values()].map(entryOf), reports: this.#outbox.byDelivery(deliveryId) };
  }

  /** The commands it holds, newest first, with their DEX status: for operators (./list-commands.ts). */
  listCommands(query: CommandQuery): { commands: ListedCommand[]; cursor: string | null } {
    return listCommands(this.ctx.storage.sql, query);
  }

  /** The file a finished command left, for the download route: undefined until there is one. */
  fileOf(commandId: string): { filename: string; type: string } | undefined {
    const row = this.#rows.byCommandId(commandId);
    return row?.filename ? { filename: row.filename, type: commandOf(row).type } : undefined;
  }

  /** A command it created, as a request to run it again would name it (Slack's "Capture again"). */
  madeCommand(commandId: string): MadeCommand | undefined {
    const row = this.#rows.byCommandId(commandId);
    return row?.command_id ? madeCommandOf(row) : undefined;
  }

  /** A click on a Slack button: its value names the command and proves the clicker saw its message. */
  async decideFromSlack(token: string, decision: ApprovalDecision, by: string): Promise<ApprovalAnswer> {
    const key = await this.#approvals.keyOf(token);
    return key ? this.#decide(key, decision, { by, via: "slack" }) : { result: "unknown" };
  }

  /** An operator's decision in the console: operator auth has said who it is. */
  decideAsOperator(key: string, decision: ApprovalDecision, by: string): Promise<ApprovalAnswer> {
    return this.#decide(key, decision, { by, via: "console" });
  }

  /** Records the decision at once; the alarm, due now, sends an approved command and the reports. */
  async #decide(key: string, decision: ApprovalDecision, decider: Decider): Promise<ApprovalAnswer> {
    const now = Date.now();
    const { answer, effects } = this.#approvals.decide(key, decision, decider, now);
    if (answer.result === "unknown") return answer;
    if (effects.length > 0) this.#do(this.#rows.get(key)!, effects, now);
    else this.#log(`approval-${answer.result}`, this.#rows.get(key)!, { via: decider.via });
    this.#queueReports();
    await this.#scheduleAlarm();
    return answer;
  }

  /**
   * Retries what is due, sends what the cap now admits, finds creates a restart cut off and
   * polls statuses; then sends due reports in the background, so that a slow receiver never
   * holds up the next alarm, and with it a capture's retry.
   */
  override async alarm(): Promise<void> {
    await this.#work(this.#settings(), { poll: true });
    this.ctx.waitUntil(this.#outbox.sendDue(readChannels(this.env).settings, Date.now(), () => this.#scheduleAlarm()));
  }

  #settings(): DexSettings {
    const loaded = loadDexSettings(this.env);
    // Thrown to the consumer (its message is retried) or to the alarm (retried by the runtime).
    if (!loaded.ok) throw new Error(`relay configuration is invalid: ${loaded.error}`);
    const cap = this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").toArray()[0];
    return cap ? { ...loaded.settings, maxCommandsPerMinute: cap.value } : loaded.settings;
  }

  async #work(settings: DexSettings, options: { poll: boolean }): Promise<void> {
    const gate = { take: (calls: number) => this.#budget.take(calls, Date.now()), lockOut: (seconds: number) => this.lockOut(seconds) };
    const api = new DexClient({ baseUrl: settings.dexApiBase, accountId: settings.accountId, token: settings.dexApiToken, gate });
    const now = Date.now();
    this.#rows.deleteExpired(now);
    this.#outbox.deleteOld(now);
    for (const { row, effects } of this.#approvals.expire(now)) this.#do(row, effects, now);
    this.#admit(settings, now);
    const due = this.#rows.due(now + DUE_TOGETHER_MS).filter((row) => !this.#inFlight.has(row.key));
    for (const row of due) this.#inFlight.add(row.key);
    try {
      if (due.length > 0) await this.#send(api, due);
      if (due.length > 0 || options.poll) {
        await refreshQuota(api, this.#quota);
        this.#holdForQuota(this.#rows.notAdmitted());
      }
      if (options.poll) await this.#pollStatuses(api);
    } finally {
      for (const row of due) this.#inFlight.delete(row.key);
      this.#queueReports();
      await this.#scheduleAlarm();
    }
  }

  #queueReports(): void {
    queueReports(this.#rows, this.#approvals, this.#outbox, readChannels(this.env).settings, Date.now());
  }

  /** Lets waiting commands past the per-minute cap; the rest wait for a slot, or expire (./transitions.ts). */
  #admit(settings: DexSettings, now: number): void {
    const waiting = this.#rows.notAdmitted();
    if (waiting.length === 0 || this.#holdForQuota(waiting, now)) return;
    const since = now - CAP_WINDOW_MS;
    const admitted = new Set(admit(waiting, this.#rows.admittedSince(since), settings.maxCommandsPerMinute));
    for (const row of waiting) if (admitted.has(row.key)) this.#apply(row, { type: "admitted" }, now);
    const slotFreesAt = (this.#rows.firstAdmittedSince(since) ?? now) + CAP_WINDOW_MS;
    for (const row of waiting) {
      if (!admitted.has(row.key)) this.#apply(row, { type: "held-by-cap", cap: settings.maxCommandsPerMinute, slot_frees_at: slotFreesAt }, now);
    }
  }

  /** While the account's quota is spent, these wait for its reset (or expire); says whether it is spent. */
  #holdForQuota(rows: readonly CommandRow[], now = Date.now()): boolean {
    const spentUntil = this.#quota.spentUntil(now);
    if (spentUntil === undefined) return false;
    for (const row of rows) this.#apply(row, { type: "held-by-quota", spent_until: spentUntil }, now);
    return true;
  }

  /** Sends due commands: those that may have landed already are looked up first, never created twice. */
  async #send(api: DexClient, due: CommandRow[]): Promise<void> {
    const toSend = (row: CommandRow, event: CommandEvent) => this.#apply(row, event, Date.now()).some((effect) => effect.do === "send");
    const ready = due.filter((row) => toSend(row, { type: "due" }));
    const unchecked = due.filter((row) => row.state !== "waiting");
    if (unchecked.length > 0) ready.push(...(await this.#reconcile(api, unchecked, "before sending again")).filter((row) => toSend(row, { type: "reconcile-not-found" })));
    // Spent since these were admitted (a refusal, a read): what did not land waits for the reset.
    if (ready.length === 0 || this.#holdForQuota(ready)) return;
    const sentAt = Date.now();
    for (const row of ready) this.#apply(row, { type: "sent" }, sentAt);
    // Should this instance die mid-create, the alarm finds the `sending` rows and reconciles them.
    await this.#scheduleAlarm();
    const { results } = await sendCommands(api, ready.map(commandOf));

    const uncertain: Array<{ row: CommandRow; error: string }> = [];
    const answeredAt = Date.now();
    let spentUntil: number | undefined;
    results.forEach((result, i) => {
      const row = this.#rows.get(ready[i]!.key)!;
      if (result.state === "quota-spent" && spentUntil === undefined) {
        spentUntil = this.#quota.refused(answeredAt);
        logProblem("dex-quota-spent", { until: new Date(spentUntil).toISOString(), error: result.error });
      }
      const event: CommandEvent =
        result.state === "created" ? { type: "create-created", command_id: result.command_id }
        : result.state === "failed" ? { type: "create-failed", error: result.error }
        : result.state === "rate-limited" ? { type: "create-rate-limited", retry_after_seconds: result.retryAfterSeconds }
        : result.state === "quota-spent" ? { type: "create-quota-spent", spent_until: spentUntil! }
        : { type: "create-uncertain", error: result.error };
      const effects = this.#apply(row, event, answeredAt);
      if (event.type === "create-uncertain" && effects.some((effect) => effect.do === "reconcile")) uncertain.push({ row, error: event.error });
    });
    // Ask at once whether an uncertain create landed; what did not is retried within seconds.
    if (uncertain.length === 0) return;
    const errors = new Map(uncertain.map(({ row, error }) => [row.key, error]));
    for (const row of await this.#reconcile(api, uncertain.map(({ row }) => row), "after the create failed")) {
      this.#apply(row, { type: "reconcile-not-found", error: errors.get(row.key)! }, Date.now());
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
      for (const row of rows) this.#apply(row, { type: "reconcile-could-not-check", error }, Date.now());
      return [];
    }
    const unconfirmed = rows.map((row) => {
      const { device_id, registration_id, user_email, type } = commandOf(row);
      const window = { first_sent_at: row.first_sent_at ?? row.queued_at, last_sent_at: row.last_sent_at ?? row.queued_at };
      return { key: row.key, device_id, registration_id, user_email, type, ...window };
    });
    const landed = attributeLanded(unconfirmed, listed, this.#rows.knownCommandIds());
    const notLanded: CommandRow[] = [];
    for (const row of rows) {
      const commandId = landed.get(row.key);
      if (commandId) this.#apply(this.#rows.get(row.key)!, { type: "reconcile-found", command_id: commandId, when }, Date.now());
      else notLanded.push(this.#rows.get(row.key)!);
    }
    return notLanded;
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
      const { status, filename = null, completed_date = null } = byId.get(row.command_id!) ?? {};
      if (status) this.#apply(row, { type: "status-polled", status, filename, completed_date }, Date.now());
    }
  }

  /** Sets the alarm for the earliest thing waiting: a retry, a free slot, a status poll, an approval that expires, a create in flight. */
  async #scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const inFlight = this.#rows.hasSending() || this.#outbox.hasSending() ? now + WATCHDOG_MS : undefined;
    const times = [this.#rows.nextDue(), this.#outbox.nextDue(), this.#nextPollAt(now), this.#approvals.nextExpiry(), inFlight];
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

  /** Applies what happened to a command (./transitions.ts) and does what it says; returns what is left to do (send, reconcile). */
  #apply(row: CommandRow, event: CommandEvent, now: number): Effect[] {
    const step = this.#rows.apply(row, event, now);
    if (!step.ok) {
      logProblem("ledger-transition-refused", { delivery_id: row.delivery_id, rule: row.rule, state: row.state, event: event.type, reason: step.refused });
      return [];
    }
    return this.#do(row, step.effects, now);
  }

  #do(row: CommandRow, effects: readonly Effect[], now: number): Effect[] {
    for (const effect of effects) {
      if (effect.do === "log") this.#log(effect.event, row, effect.details);
      else if (effect.do === "count-created") this.#metrics.commandCreated(row, now);
      else if (effect.do === "count-approval") this.#metrics.approval(effect.outcome);
    }
    return effects.filter((effect) => effect.do === "send" || effect.do === "reconcile");
  }

  #log(event: string, row: CommandRow, details: Record<string, string | number | undefined>): void {
    const { type } = commandOf(row);
    this.#metrics.commandEvent(event, type, details);
    logEvent(`ledger-${event}`, { delivery_id: row.delivery_id, alert: row.alert, rule: row.rule, type, ...details });
  }
}
