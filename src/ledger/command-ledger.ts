import { DurableObject } from "cloudflare:workers";
import { loadDexSettings, type DexSettings } from "../config/settings";
import { DexClient } from "../dispatch/dex-client";
import { isDexApiError, type DexApiError } from "../model/dex-api-error";
import { listCommandsSince } from "../dispatch/list-since";
import { sendCommands } from "../dispatch/send-commands";
import { logEvent, logProblem } from "../record/log";
import { readChannels, type ChannelSettings } from "../report/channels";
import { finishedReports, startedReports, type ReportedCommand } from "../report/compose";
import { reportRetrySeconds, REPORT_HORIZON_MS } from "../report/retry-schedule";
import { sendReport, type SendOutcome } from "../report/send-report";
import type { ApprovalAnswer, ApprovalDecision } from "../model/approval";
import { admit, CAP_WINDOW_MS, USEFUL_WAIT_MS } from "./admission";
import { approvalOf, Approvals, readySince, type Decider } from "./approvals";
import { ApiBudget } from "./api-budget";
import { ATTRIBUTION_MARGIN_MS, attributeLanded } from "./attribute";
import { CommandRows, commandOf, reportOf, type CommandRow } from "./command-rows";
import type { DeliveryView, LedgerCommand, LedgerEntry, LedgerResult, MadeCommand, WaitSeconds } from "./contract";
import { listCommands, type CommandQuery, type ListedCommand } from "./list-commands";
import { answerFor, cooldownAnswer, ownResult } from "./outcomes";
import { AccountQuota, quotaHold, quotaReason, refreshQuota, type QuotaStatus } from "./quota";
import { ReportRows, type ReportRow } from "./report-rows";
import { LedgerMetrics, type LedgerMetricsSnapshot } from "./ledger-metrics";
import type { CounterIncrement } from "../model/metrics";
import { migrateLedger } from "./migrate";
import { presentFields } from "../model/present-fields";
import { retryDelaySeconds, RETRY_HORIZON_MS } from "./retry-schedule";

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
/** Reports sent in one pass, at most; the rest go in the next. */
const MAX_REPORTS_PER_PASS = 25;

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
  readonly #reports: ReportRows;
  readonly #quota: AccountQuota;
  readonly #approvals: Approvals;
  readonly #metrics: LedgerMetrics;
  /** Keys this instance is working on now. A `sending` row outside it was left by a restart. */
  readonly #inFlight = new Set<string>();
  /** Reports this instance is sending now. */
  readonly #reportsInFlight = new Set<string>();
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
    this.#reports = new ReportRows(ctx.storage.sql);
    this.#quota = new AccountQuota(ctx.storage.sql);
    this.#approvals = new Approvals(ctx.storage.sql, this.#rows);
    this.#metrics = new LedgerMetrics(ctx.storage.sql, this.#budget, this.#quota);
    // Said once as the ledger starts, so an operator sees which reports will not be sent.
    for (const { channel, reason } of readChannels(env).off) logEvent("report-channel-off", { channel, reason });
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
        if (command.approval) {
          this.#approvals.hold(command.key, command.approval, now);
          this.#metrics.approval("requested");
        }
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
      const spent = this.#quota.spentUntil(now);
      const reason = command.approval
        ? `every check passed; it would wait up to ${command.approval.expires_minutes} minutes for a person to approve it`
        : spent
          ? `every check passed; ${quotaReason(spent)}, so it would wait for the reset`
        : locked
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
    this.#lockOut(seconds);
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

  /**
   * The commands a delivery owns, those it found already sent (by command id), and the
   * reports about them, for the audit trail.
   */
  describe(deliveryId: string, commandIds: readonly string[]): DeliveryView {
    const rows = new Map(this.#rows.byDelivery(deliveryId).map((row) => [row.key, row]));
    for (const id of commandIds) {
      const row = this.#rows.byCommandId(id);
      if (row) rows.set(row.key, row);
    }
    return { commands: [...rows.values()].map(entryOf), reports: this.#reports.byDelivery(deliveryId) };
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
    if (!row?.command_id) return undefined;
    const { type, device_id, user_email, registration_id } = commandOf(row);
    const report = reportOf(row);
    const incident = report.incident_id ? { incident: { id: report.incident_id, title: report.title } } : {};
    return { rule: row.rule, type, target: { device_id, user_email, ...presentFields({ registration_id }) }, ...incident };
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
    const answer = this.#approvals.decide(key, decision, decider, Date.now());
    if (answer.result === "unknown") return answer;
    if (answer.result === "approved" || answer.result === "denied") this.#metrics.approval(answer.result);
    this.#log(`approval-${answer.result}`, this.#rows.get(key)!, { via: decider.via });
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
    this.ctx.waitUntil(this.#sendReports());
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
        lockOut: (seconds) => this.#lockOut(seconds),
      },
    });
  }

  #lockOut(seconds: number): void {
    const now = Date.now();
    this.#metrics.lockout(this.#budget.lockedUntil(now) !== undefined);
    this.#budget.lockOut(seconds, now);
  }

  async #work(settings: DexSettings, options: { poll: boolean }): Promise<void> {
    const api = this.#api(settings);
    const now = Date.now();
    this.#rows.deleteExpired(now);
    this.#reports.deleteOld(now);
    for (const row of this.#approvals.expire(now)) {
      this.#metrics.approval("expired");
      this.#log("approval-expired", row, {});
    }
    this.#admit(settings, now);
    const due = this.#rows.due(now + DUE_TOGETHER_MS).filter((row) => !this.#inFlight.has(row.key));
    for (const row of due) this.#inFlight.add(row.key);
    try {
      if (due.length > 0) await this.#send(api, due);
      if (due.length > 0 || options.poll) await this.#readQuota(api);
      if (options.poll) await this.#pollStatuses(api);
    } finally {
      for (const row of due) this.#inFlight.delete(row.key);
      this.#queueReports();
      await this.#scheduleAlarm();
    }
  }

  /**
   * Writes the reports owed: one "started" set per alert for commands just created, one
   * "finished" set per command that reached SUCCESS or FAILED. Each command is marked in the
   * same synchronous step, so no report is ever written twice.
   */
  #queueReports(): void {
    const { settings } = readChannels(this.env);
    const now = Date.now();
    this.#rows.closeReporting();
    const byAlert = new Map<string, CommandRow[]>();
    for (const row of this.#rows.unreportedStarts()) {
      const alert = `${row.delivery_id}\n${row.alert}`;
      byAlert.set(alert, [...(byAlert.get(alert) ?? []), row]);
    }
    for (const rows of byAlert.values()) {
      for (const report of startedReports(rows.map((row) => reported(row, now)), settings)) this.#reports.insert(report, rows[0]!.delivery_id, now);
      for (const row of rows) this.#rows.update(row.key, { started_reported: 1 });
    }
    for (const row of this.#rows.unreportedFinishes()) {
      for (const report of finishedReports(reported(row, now), settings)) this.#reports.insert(report, row.delivery_id, now);
      this.#rows.update(row.key, { finished_reported: 1 });
    }
    this.#approvals.queueReports(this.#reports, settings, now);
  }

  /**
   * Sends due reports: each channel's in order, the channels side by side. A channel that
   * fails in a pass is left alone for the rest of it. A report is marked sent once its
   * receiver said 2xx, and never written again, so it goes out once (a restart in the
   * middle of a send resends that one message; webhook receivers drop it by its id).
   */
  async #sendReports(): Promise<void> {
    const now = Date.now();
    const due = this.#reports.due(now + DUE_TOGETHER_MS, MAX_REPORTS_PER_PASS).filter((row) => !this.#reportsInFlight.has(row.id));
    if (due.length === 0) return;
    for (const row of due) {
      this.#reportsInFlight.add(row.id);
      this.#reports.update(row.id, { state: "sending", attempts: row.attempts + 1 });
    }
    const { settings } = readChannels(this.env);
    const byChannel = new Map<string, ReportRow[]>();
    for (const row of due) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
    try {
      await Promise.all([...byChannel.values()].map((rows) => this.#sendChannel(rows, settings)));
    } finally {
      for (const row of due) this.#reportsInFlight.delete(row.id);
      await this.#scheduleAlarm();
    }
  }

  async #sendChannel(rows: ReportRow[], settings: ChannelSettings): Promise<void> {
    let held: string | undefined;
    for (const row of rows) {
      if (held) {
        // Not tried: this pass's failure on the channel says nothing about this report.
        this.#reports.update(row.id, { state: "pending", attempts: row.attempts, next_at: Date.now() + 1000 * reportRetrySeconds(1), reason: held });
        continue;
      }
      let outcome: SendOutcome;
      try {
        outcome = await sendReport({ id: row.id, channel: row.channel, event: row.event, body: row.body, incident_id: row.incident_id ?? undefined }, settings, new Date());
      } catch (error) {
        outcome = { state: "retry", error: error instanceof Error ? error.message : String(error) };
      }
      this.#settleReport(row, outcome);
      if (outcome.state === "retry") held = `waiting for ${row.channel}: ${outcome.error}`;
    }
  }

  #settleReport(row: ReportRow, outcome: SendOutcome): void {
    const attempts = row.attempts + 1;
    const details = { delivery_id: row.delivery_id, report: row.id, channel: row.channel, report_event: row.event, attempts };
    if (outcome.state === "sent") {
      this.#metrics.report(row.channel, "sent");
      this.#reports.update(row.id, { state: "sent", next_at: null, reason: null });
      return logEvent("report-sent", details);
    }
    if (outcome.state === "failed" || Date.now() - row.created_at >= REPORT_HORIZON_MS) {
      const reason = outcome.state === "failed" ? outcome.error : `gave up after ${attempts} attempts over 24 hours (last: ${outcome.error})`;
      this.#metrics.report(row.channel, "failed");
      this.#reports.update(row.id, { state: "failed", next_at: null, reason });
      return logProblem("report-failed", { ...details, reason });
    }
    const delay = Math.max(outcome.afterSeconds ?? 0, reportRetrySeconds(attempts));
    const reason = `${outcome.error}; retrying in ${delay} s`;
    this.#metrics.report(row.channel, "retried");
    this.#reports.update(row.id, { state: "pending", next_at: Date.now() + delay * 1000, reason });
    logEvent("report-retry-scheduled", { ...details, reason });
  }

  /** Lets waiting commands past the per-minute cap; expires the ones that waited too long to be useful. */
  #admit(settings: DexSettings, now: number): void {
    const waiting = this.#rows.notAdmitted();
    if (waiting.length === 0) return;
    const spentUntil = this.#quota.spentUntil(now);
    if (spentUntil !== undefined) return this.#holdForQuota(waiting, spentUntil, now);
    const since = now - CAP_WINDOW_MS;
    const admitted = new Set(admit(waiting, this.#rows.admittedSince(since), settings.maxCommandsPerMinute));
    for (const key of admitted) this.#rows.update(key, { admitted_at: now, next_at: now });
    const slotFreesAt = (this.#rows.firstAdmittedSince(since) ?? now) + CAP_WINDOW_MS;
    for (const row of waiting) {
      if (admitted.has(row.key)) continue;
      if (now - readySince(row) >= USEFUL_WAIT_MS) {
        const reason = `MAX_COMMANDS_PER_MINUTE (${settings.maxCommandsPerMinute}) had no room for it within ${USEFUL_WAIT_MS / 60_000} minutes of the alert or its approval`;
        this.#rows.update(row.key, { state: "expired", reason, next_at: null, cooldown_until: null });
        this.#log("capped", row, { reason });
      } else {
        this.#rows.update(row.key, {
          next_at: slotFreesAt,
          reason: `held by MAX_COMMANDS_PER_MINUTE (${settings.maxCommandsPerMinute}); sent when a slot frees, within ${USEFUL_WAIT_MS / 60_000} minutes of the alert or its approval`,
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
    // Spent since these were admitted (a refusal, a read): what did not land waits for the reset.
    const spentUntil = this.#quota.spentUntil(Date.now());
    if (spentUntil !== undefined) return this.#holdForQuota(ready, spentUntil, Date.now());

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
    let quotaSpentUntil: number | undefined;
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
        case "quota-spent": {
          if (quotaSpentUntil === undefined) {
            quotaSpentUntil = this.#quota.refused(answeredAt);
            logProblem("dex-quota-spent", { until: new Date(quotaSpentUntil).toISOString(), error: result.error });
          }
          // Nothing was created: not an attempt, and not a failure. It waits for the reset.
          const hold = quotaHold(row, quotaSpentUntil, answeredAt);
          this.#rows.update(row.key, { ...hold, attempts: row.attempts - 1 });
          return this.#log(hold.state === "expired" ? "quota-expired" : "quota-held", row, { reason: hold.reason ?? undefined });
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
   * Reads the account's command quota when a read is due (./quota.ts), then applies what the
   * ledger now knows of its reset to the commands that wait.
   */
  async #readQuota(api: DexClient): Promise<void> {
    await refreshQuota(api, this.#quota);
    const now = Date.now();
    const spentUntil = this.#quota.spentUntil(now);
    if (spentUntil !== undefined) this.#holdForQuota(this.#rows.notAdmitted(), spentUntil, now);
  }

  /** While the quota is spent, each command waits for the reset, or ends expired once past its useful window. */
  #holdForQuota(rows: readonly CommandRow[], spentUntil: number, now: number): void {
    for (const row of rows) {
      const hold = quotaHold(row, spentUntil, now);
      this.#rows.update(row.key, hold);
      if (hold.state === "expired") this.#log("quota-expired", row, { reason: hold.reason ?? undefined });
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
      const { device_id, registration_id, user_email, type } = commandOf(row);
      const window = { first_sent_at: row.first_sent_at ?? row.queued_at, last_sent_at: row.last_sent_at ?? row.queued_at };
      return { key: row.key, device_id, registration_id, user_email, type, ...window };
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
    this.#metrics.commandCreated(row, now);
    this.#log("created", row, { command_id: commandId, reason });
  }

  /** The create did not land: try again soon, unless the capture has stopped being worth it. */
  #retryLater(row: CommandRow, error: string): void {
    const now = Date.now();
    if (now - readySince(row) >= RETRY_HORIZON_MS) {
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
    if (Date.now() - readySince(row) >= RETRY_HORIZON_MS) {
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

  /** Sets the alarm for the earliest thing waiting: a retry, a free slot, a status poll, an approval that expires, a create in flight. */
  async #scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const inFlight = this.#rows.hasSending() || this.#reports.hasSending() ? now + WATCHDOG_MS : undefined;
    const times = [this.#rows.nextDue(), this.#reports.nextDue(), this.#nextPollAt(now), this.#approvals.nextExpiry(), inFlight];
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
    const { type } = commandOf(row);
    this.#metrics.commandEvent(event, type, details);
    logEvent(`ledger-${event}`, { delivery_id: row.delivery_id, alert: row.alert, rule: row.rule, type, ...details });
  }
}

/** A created command as the reports speak of it. */
function reported(row: CommandRow, now: number): ReportedCommand {
  const command = commandOf(row);
  const report = reportOf(row);
  return {
    command_id: row.command_id!,
    type: command.type,
    status: row.status ?? "PENDING_EXEC",
    device_id: command.device_id,
    user_email: command.user_email,
    rule: row.rule,
    delivery_id: row.delivery_id,
    source: row.source,
    alert_title: report.title,
    ...presentFields({
      device_name: row.device_name,
      requested_by: row.requested_by,
      incident_id: report.incident_id,
      notify: report.notify,
      completed_date: row.completed_date,
      filename: row.filename,
      approval: approvalOf(row),
    }),
    at: new Date(now).toISOString(),
  };
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
    ...presentFields({
      device_name: row.device_name,
      requested_by: row.requested_by,
      status: row.status,
      filename: row.filename,
      completed_date: row.completed_date,
      approval: approvalOf(row),
    }),
    ...(row.created_at ? { created_at: new Date(row.created_at).toISOString() } : {}),
  };
}
