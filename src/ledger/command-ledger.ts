import { DurableObject } from "cloudflare:workers";
import type { LedgerSettings } from "../config/ledger-settings";
import type { ApprovalAnswer, ApprovalDecision } from "../model/approval";
import type { CounterIncrement } from "../model/metrics";
import { ReportOutbox } from "../report/report-outbox";
import { scheduleAlarm } from "./alarm";
import { Admission } from "./admission-gate";
import { ApiBudget } from "./api-budget";
import { claim } from "./claim";
import { Approvals, type Decider, type Person } from "./approvals";
import { CommandEffects } from "./command-effects";
import { CommandRows } from "./command-rows";
import { CommandSender, WATCHDOG_MS } from "./command-sender";
import type { DeliveryView, LedgerCommand, LedgerResult, MadeCommand, WaitSeconds } from "./contract";
import { LedgerMetrics, type LedgerMetricsSnapshot } from "./ledger-metrics";
import { HandedSettings, type ReleaseOneLimits } from "./ledger-settings";
import { listCommands, type CommandQuery, type ListedCommand } from "./list-commands";
import { migrateLedger } from "./migrate";
import { ownResult } from "./outcomes";
import { preview } from "./preview";
import { AccountQuota, refreshQuota, type QuotaStatus } from "./quota";
import { queueReports } from "./queue-reports";
import { StatusPoller } from "./status-poller";
import { entryOf, fileOfRow, madeCommandOf, type CommandFile } from "./row-views";

/**
 * The command ledger: one Durable Object per account, the one authority for every command
 * the relay means to send. It holds each command's key (episode × rule × device × type) and
 * state, the cooldowns, the per-minute cap, the API budget and each command's DEX status; it
 * claims keys atomically (./claim.ts), makes the creates itself, reconciles an uncertain one
 * at once and retries on its alarm. What each answer does to a command is decided in
 * ./transitions.ts: this class is the shell around it, over storage, the alarm and the API.
 */
export class CommandLedger extends DurableObject<Env> {
  readonly #rows: CommandRows;
  readonly #budget: ApiBudget;
  readonly #outbox: ReportOutbox;
  readonly #quota: AccountQuota;
  readonly #approvals: Approvals;
  readonly #metrics: LedgerMetrics;
  readonly #sender: CommandSender;
  readonly #admission: Admission;
  readonly #poller: StatusPoller;
  readonly #effects: CommandEffects;
  readonly #settings: HandedSettings;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Before any request or alarm reaches it: a ledger written by an earlier release is
    // brought up to this release's schema first (./migrate.ts).
    void ctx.blockConcurrencyWhile(async () => migrateLedger(ctx.storage));
    this.#rows = new CommandRows(ctx.storage.sql);
    this.#budget = new ApiBudget(ctx.storage.sql);
    this.#quota = new AccountQuota(ctx.storage.sql);
    this.#metrics = new LedgerMetrics(ctx.storage.sql, this.#budget, this.#quota);
    this.#outbox = new ReportOutbox(ctx.storage.sql, (channel, result) => this.#metrics.report(channel, result));
    this.#effects = new CommandEffects(this.#rows, this.#metrics);
    this.#approvals = new Approvals(ctx.storage.sql, this.#rows, this.#effects);
    const gate = { take: (calls: number) => this.#budget.take(calls, Date.now()), lockOut: (seconds: number) => this.lockOut(seconds) };
    this.#admission = new Admission(this.#rows, this.#quota, this.#effects);
    this.#poller = new StatusPoller(this.#rows, this.#effects);
    this.#sender = new CommandSender(this.#rows, this.#quota, this.#admission, this.#effects, gate, () => this.#scheduleAlarm());
    this.#settings = new HandedSettings(env, ctx.storage.sql);
  }

  /**
   * Takes commands to send, once each (./claim.ts), and sends what it claimed as far as the cap
   * and the API allow before this returns. One answer per command.
   */
  async submit(commands: LedgerCommand[], given: LedgerSettings | ReleaseOneLimits): Promise<LedgerResult[]> {
    const settings = this.#settings.take(given);
    const context = { rows: this.#rows, approvals: this.#approvals, idempotencyTtlMs: settings.dex.idempotencyTtlSeconds * 1000 };
    const answers = this.ctx.storage.transactionSync(() => claim(commands, context, Date.now()));
    await this.#work({ poll: false });
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
    return { commands: this.#rows.ofDelivery(deliveryId, commandIds).map(entryOf), reports: this.#outbox.byDelivery(deliveryId) };
  }

  /** The commands it holds, newest first, with their DEX status: for operators (./list-commands.ts). */
  listCommands(query: CommandQuery): { commands: ListedCommand[]; cursor: string | null } {
    return listCommands(this.ctx.storage.sql, query);
  }

  /** The file a finished command left, for the download route: undefined until there is one. */
  fileOf(commandId: string): CommandFile | undefined {
    return fileOfRow(this.#rows.byCommandId(commandId));
  }

  /** A command it created, as a request to run it again would name it (Slack's "Capture again"). */
  madeCommand(commandId: string): MadeCommand | undefined {
    return madeCommandOf(this.#rows.byCommandId(commandId));
  }

  /** A click on a Slack button: its value names the command and proves the clicker saw its message. */
  async decideFromSlack(token: string, decision: ApprovalDecision, person: Person, settings: LedgerSettings): Promise<ApprovalAnswer> {
    const key = await this.#approvals.keyOf(token);
    return key ? this.#decide(key, decision, { ...person, via: "slack" }, settings) : { result: "unknown" };
  }

  /** An operator's decision, in the console or through the operator API: operator auth has said who it is. */
  decideAsOperator(
    key: string,
    decision: ApprovalDecision,
    person: Person,
    settings: LedgerSettings,
    via: "console" | "api" = "console",
  ): Promise<ApprovalAnswer> {
    return this.#decide(key, decision, { ...person, via }, settings);
  }

  /** Records the decision at once; the alarm, due now, sends an approved command and the reports. */
  async #decide(key: string, decision: ApprovalDecision, decider: Decider, settings: LedgerSettings): Promise<ApprovalAnswer> {
    this.#settings.take(settings);
    const answer = this.#approvals.decide(key, decision, decider, Date.now());
    if (answer.result === "unknown") return answer;
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
    await this.#work({ poll: true });
    this.ctx.waitUntil(this.#outbox.sendDue(this.#settings.current().channels, Date.now(), () => this.#scheduleAlarm()));
  }

  async #work(options: { poll: boolean }): Promise<void> {
    const { dex: settings } = this.#settings.current();
    const api = this.#sender.client(settings);
    const now = Date.now();
    this.#rows.deleteExpired(now);
    this.#outbox.deleteOld(now);
    this.#approvals.expire(now);
    this.#admission.admit(settings, now);
    const due = this.#sender.takeDue(now);
    try {
      if (due.length > 0) await this.#sender.send(api, due);
      if (due.length > 0 || options.poll) {
        await refreshQuota(api, this.#quota);
        this.#admission.holdForQuota(this.#rows.notAdmitted());
      }
      if (options.poll) await this.#poller.poll(api);
    } finally {
      this.#sender.release(due);
      this.#queueReports();
      await this.#scheduleAlarm();
    }
  }

  #queueReports(): void {
    queueReports(this.#rows, this.#approvals, this.#outbox, this.#settings.current().channels, Date.now());
  }

  /** Sets the alarm for the earliest thing waiting: a retry, a free slot, a status poll, an approval that expires, a create in flight. */
  #scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const inFlight = this.#rows.hasSending() || this.#outbox.hasSending() ? now + WATCHDOG_MS : undefined;
    return scheduleAlarm(this.ctx.storage, now, [
      this.#rows.nextDue(),
      this.#outbox.nextDue(),
      this.#poller.nextPollAt(now),
      this.#approvals.nextExpiry(),
      inFlight,
    ]);
  }
}
