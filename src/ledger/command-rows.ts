import type { ApprovalVia } from "../model/approval";
import type { CommandInput, CommandType } from "../model/dex-api";
import type { LedgerCommand } from "./contract";
import type { ColumnDeclaration, RowOf } from "../model/sql-table";
import { transition, type CommandEvent, type Step } from "./transitions";

/**
 * Where a command stands in the ledger:
 * - `waiting`: accepted; not sent yet (held by the cap, the API budget, a 429 or the
 *   account's spent command quota).
 * - `sending`: claimed, its create in flight. Found so with nothing in flight (the object
 *   restarted mid-create), it may have landed: reconcile before sending again.
 * - `uncertain`: the create failed in a way that may have landed; reconcile, then retry.
 * - `created`, `failed`: final. `expired`: waited for the cap or for the quota's reset until
 *   the capture stopped being useful, never sent.
 * - `awaiting-approval`: its rule wants a person to approve it first (./approvals.ts);
 *   approved, it becomes `waiting`. `denied`, `approval-expired`: final, never sent.
 */
export type RowState = "waiting" | "sending" | "uncertain" | "created" | "failed" | "expired" | "awaiting-approval" | "denied" | "approval-expired";

/** The columns as the last migration leaves them (./migrations): tables.test.ts holds the two together. */
export const COMMAND_COLUMNS = {
  key: "TEXT PRIMARY KEY",
  delivery_id: "TEXT NOT NULL",
  source: "TEXT NOT NULL",
  alert: "INTEGER NOT NULL",
  episode: "TEXT NOT NULL",
  rule: "TEXT NOT NULL",
  severity_rank: "INTEGER NOT NULL",
  cooldown_key: "TEXT NOT NULL",
  cooldown_until: "INTEGER",
  command: "TEXT NOT NULL",
  device_name: "TEXT",
  state: "TEXT NOT NULL",
  reason: "TEXT",
  attempts: "INTEGER NOT NULL DEFAULT 0",
  queued_at: "INTEGER NOT NULL",
  admitted_at: "INTEGER",
  first_sent_at: "INTEGER",
  last_sent_at: "INTEGER",
  next_at: "INTEGER",
  command_id: "TEXT UNIQUE",
  created_at: "INTEGER",
  status: "TEXT",
  filename: "TEXT",
  completed_date: "TEXT",
  report: "TEXT NOT NULL",
  started_reported: "INTEGER NOT NULL DEFAULT 0",
  finished_reported: "INTEGER NOT NULL DEFAULT 0",
  expires_at: "INTEGER NOT NULL",
  requested_by: "TEXT",
  approval_secret: "TEXT",
  approval_expires_at: "INTEGER",
  approval_by: "TEXT",
  approval_via: "TEXT",
  approval_at: "INTEGER",
  approval_reported: "INTEGER NOT NULL DEFAULT 0",
  // Migration 4: when the relay received the alert, for the alert → command histogram.
  received_at: "INTEGER",
  // Migration 5: the command as columns (`command` is still written, for a rollback). NULL in
  // a row the release before wrote over this schema: commandOf then reads `command`.
  type: "TEXT",
  device_id: "TEXT",
  user_email: "TEXT",
  registration_id: "TEXT",
  args: "TEXT",
  // Migration 6: who may decide an approval (JSON array); NULL: anyone who can reach it.
  approval_approvers: "TEXT",
} as const satisfies Record<string, ColumnDeclaration>;

/** A command as the ledger stores it: what the consumer handed over, and where it stands. */
export type CommandRow = RowOf<typeof COMMAND_COLUMNS, { state: RowState; approval_via: ApprovalVia | null; type: CommandType | null }>;

/** Statuses after which DEX has nothing more to say about a command. */
export const FINISHED_STATUSES = ["SUCCESS", "FAILED"] as const;

/** Typed reads and writes of the `commands` table. Every method is synchronous: no other request interleaves. */
export class CommandRows {
  constructor(private readonly sql: SqlStorage) {}

  get(key: string): CommandRow | undefined {
    return this.sql.exec<CommandRow>("SELECT * FROM commands WHERE key = ?", key).toArray()[0];
  }

  many(keys: readonly string[]): CommandRow[] {
    return keys.flatMap((key) => this.get(key) ?? []);
  }

  /**
   * A command of this rule × device × type sent (or on its way) recently; one awaiting
   * approval holds its cooldown for as long as it waits, so no second alert asks again.
   */
  coolingDown(cooldownKey: string, now: number): CommandRow | undefined {
    return this.sql
      .exec<CommandRow>(
        `SELECT * FROM commands WHERE cooldown_key = ? AND (cooldown_until > ? OR (state = 'awaiting-approval' AND cooldown_until IS NOT NULL))
           ORDER BY cooldown_until DESC LIMIT 1`,
        cooldownKey,
        now,
      )
      .toArray()[0];
  }

  insert(command: LedgerCommand, now: number, keepMs: number): void {
    this.sql.exec(
      `INSERT INTO commands (key, delivery_id, source, alert, episode, rule, severity_rank, cooldown_key, cooldown_until,
         command, type, device_id, user_email, registration_id, args,
         device_name, report, state, queued_at, next_at, expires_at, requested_by, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?)`,
      command.key,
      command.delivery_id,
      command.source,
      command.alert,
      command.episode,
      command.rule,
      command.severity_rank,
      command.cooldown_key,
      command.cooldown_minutes > 0 ? now + command.cooldown_minutes * 60_000 : null,
      JSON.stringify(command.command),
      command.command.type,
      command.command.device_id,
      command.command.user_email,
      command.command.registration_id ?? null,
      command.command.args === undefined ? null : JSON.stringify(command.command.args),
      command.device_name ?? null,
      JSON.stringify(command.report),
      now,
      now,
      now + keepMs,
      command.requested_by ?? null,
      receivedAt(command.received_at),
    );
  }

  /** Applies what happened to a command (./transitions.ts): its changes are written, a refusal changes nothing. */
  apply(row: CommandRow, event: CommandEvent, now: number): Step {
    const step = transition(row, event, now);
    if (step.ok) this.update(row.key, step.changes);
    return step;
  }

  update(key: string, changes: Partial<Omit<CommandRow, "key">>): void {
    const columns = Object.keys(changes);
    if (columns.length === 0) return;
    this.sql.exec(`UPDATE commands SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE key = ?`, ...columns.map((c) => changes[c] ?? null), key);
  }

  /** Waiting commands the cap has not admitted yet. */
  notAdmitted(): CommandRow[] {
    return this.sql.exec<CommandRow>("SELECT * FROM commands WHERE state = 'waiting' AND admitted_at IS NULL").toArray();
  }

  /** Sources of the commands admitted since `since`: what the sliding cap counts. */
  admittedSince(since: number): string[] {
    return this.sql
      .exec<{ source: string }>("SELECT source FROM commands WHERE admitted_at > ?", since)
      .toArray()
      .map((row) => row.source);
  }

  /** The earliest admission still inside the window: when the cap frees a slot. */
  firstAdmittedSince(since: number): number | undefined {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(admitted_at) AS at FROM commands WHERE admitted_at > ?", since).one();
    return row.at ?? undefined;
  }

  /** Admitted commands due for a (re)send or a reconcile, and every `sending` one (the caller skips its own). */
  due(now: number): CommandRow[] {
    return this.sql
      .exec<CommandRow>(
        `SELECT * FROM commands WHERE (state IN ('waiting', 'uncertain') AND admitted_at IS NOT NULL AND next_at <= ?)
           OR state = 'sending' ORDER BY severity_rank, queued_at`,
        now,
      )
      .toArray();
  }

  /** Command ids the ledger has already attributed to a key. */
  knownCommandIds(): Set<string> {
    return new Set(
      this.sql
        .exec<{ command_id: string }>("SELECT command_id FROM commands WHERE command_id IS NOT NULL")
        .toArray()
        .map((row) => row.command_id),
    );
  }

  /** Created commands whose DEX status may still change, created since `since`. */
  unfinished(since: number): CommandRow[] {
    return this.sql
      .exec<CommandRow>(
        `SELECT * FROM commands WHERE state = 'created' AND created_at > ?
           AND (status IS NULL OR status NOT IN ('SUCCESS', 'FAILED')) ORDER BY created_at`,
        since,
      )
      .toArray();
  }

  /** The earliest moment something waits for: a retry, a slot under the cap. */
  nextDue(): number | undefined {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM commands WHERE state IN ('waiting', 'uncertain')").one();
    return row.at ?? undefined;
  }

  hasSending(): boolean {
    return this.sql.exec("SELECT 1 FROM commands WHERE state = 'sending' LIMIT 1").toArray().length > 0;
  }

  /** Created commands whose start has not been reported yet. */
  unreportedStarts(): CommandRow[] {
    return this.sql.exec<CommandRow>("SELECT * FROM commands WHERE started_reported = 0 AND state = 'created' ORDER BY delivery_id, alert").toArray();
  }

  /** Finished commands whose end has not been reported yet. */
  unreportedFinishes(): CommandRow[] {
    return this.sql.exec<CommandRow>("SELECT * FROM commands WHERE finished_reported = 0 AND state = 'created' AND status IN ('SUCCESS', 'FAILED')").toArray();
  }

  /** Commands that will never be reported on: nothing to scan for again. */
  closeReporting(): void {
    this.sql.exec("UPDATE commands SET started_reported = 1, finished_reported = 1 WHERE state IN ('failed', 'expired') AND started_reported = 0");
  }

  /** The commands a delivery owns, and those it found already sent by another (named by command id). */
  ofDelivery(deliveryId: string, commandIds: readonly string[]): CommandRow[] {
    const rows = new Map(
      this.sql
        .exec<CommandRow>("SELECT * FROM commands WHERE delivery_id = ? ORDER BY alert", deliveryId)
        .toArray()
        .map((row) => [row.key, row]),
    );
    for (const id of commandIds) {
      const row = this.byCommandId(id);
      if (row) rows.set(row.key, row);
    }
    return [...rows.values()];
  }

  byCommandId(commandId: string): CommandRow | undefined {
    return this.sql.exec<CommandRow>("SELECT * FROM commands WHERE command_id = ?", commandId).toArray()[0];
  }

  /** Forgets final commands past their time; what is still moving is kept. */
  deleteExpired(now: number): void {
    this.sql.exec("DELETE FROM commands WHERE expires_at < ? AND state IN ('created', 'failed', 'expired', 'denied', 'approval-expired')", now);
  }
}

/** The alert's arrival as epoch ms; null when the consumer did not say (an earlier release's) or said nonsense. */
function receivedAt(value: string | undefined): number | null {
  const at = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

/** The command to create, from its columns; from its JSON when the release before wrote the row. */
export function commandOf(row: CommandRow): CommandInput {
  if (row.type === null || row.device_id === null || row.user_email === null) return JSON.parse(row.command) as CommandInput;
  return {
    type: row.type,
    device_id: row.device_id,
    user_email: row.user_email,
    ...(row.registration_id === null ? {} : { registration_id: row.registration_id }),
    ...(row.args === null ? {} : { args: JSON.parse(row.args) }),
  } as CommandInput;
}

export function reportOf(row: CommandRow): LedgerCommand["report"] {
  return JSON.parse(row.report) as LedgerCommand["report"];
}
