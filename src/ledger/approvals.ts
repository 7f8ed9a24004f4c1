import { secretsEqual } from "../crypto/compare";
import { presentFields } from "../model/present-fields";
import type { ApprovalAnswer, ApprovalDecision, ApprovalSubject, ApprovalVia, ApprovalView } from "../model/approval";
import { approvalEndedReports, approvalRequestedReports, type ApprovalReported } from "../report/approvals";
import type { ChannelSettings } from "../config/channels";
import type { ReportOutbox } from "../report/report-outbox";
import { commandOf, reportOf, type CommandRow, type CommandRows } from "./command-rows";
import type { LedgerCommand } from "./contract";
import type { CommandEffects } from "./command-effects";

/**
 * Approval before sending, for rules with `approval`: such a command is claimed like any
 * other (its key, cooldown and episode hold at once, so a repeat alert never asks twice) but
 * waits as `awaiting-approval`, with nothing sent to the DEX API, until a person approves it
 * (it becomes `waiting`, and the cap, the budget and the retries take over), denies it
 * (`denied`) or lets it expire (`approval-expired`). Every step here is synchronous, so a
 * decision and a second click, or the alarm's expiry, never interleave.
 */

/** Randomness of the secret a command's Slack buttons carry: 128 bits, so it cannot be guessed. */
const SECRET_BYTES = 16;
/** `<command key>.<secret>`: the value of the Approve and Deny buttons. */
const TOKEN = /^([0-9a-f]{64})\.([0-9a-f]{32})$/;

/** Who asks to decide: a Slack user or an operator. */
export interface Person {
  /** As the audit trail names them: `@sam (U0123)`, an Access email, `admin token`. */
  by: string;
  /**
   * As a rule's `approvers` names people: the Slack user id, or the Cloudflare Access email.
   * Unset for the admin token, which names no person.
   */
  identity?: string;
}

/** Who decided, and where. */
export interface Decider extends Person {
  via: ApprovalVia;
}

export class Approvals {
  constructor(
    private readonly sql: SqlStorage,
    private readonly rows: CommandRows,
    /** Writes each decision through the state machine, with its log line and counters. */
    private readonly effects: CommandEffects,
  ) {}

  /** Puts a command just claimed on hold until a person decides, for at most the rule's `expires_minutes`. */
  hold(key: string, approval: NonNullable<LedgerCommand["approval"]>, now: number): void {
    const secret = Array.from(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)), (b) => b.toString(16).padStart(2, "0")).join("");
    const requested = {
      type: "approval-requested",
      secret,
      expires_at: now + approval.expires_minutes * 60_000,
      ...presentFields({ approvers: approval.approvers }),
    } as const;
    this.effects.apply(this.rows.get(key)!, requested, now);
  }

  /**
   * The command a Slack button's value names, when its secret is that command's: a value
   * made up, or one command's key with another's secret, names none.
   */
  async keyOf(token: string): Promise<string | undefined> {
    const [, key, secret] = TOKEN.exec(token) ?? [];
    const row = key ? this.rows.get(key) : undefined;
    if (!row?.approval_secret || !secret) return undefined;
    return (await secretsEqual(secret, row.approval_secret)) ? row.key : undefined;
  }

  /**
   * Approves or denies a command awaiting approval, when its rule lets `decider` decide.
   * Anything else is answered as it stands, unchanged, and the click that changed nothing is
   * logged.
   */
  decide(key: string, decision: ApprovalDecision, decider: Decider, now: number): ApprovalAnswer {
    let row = this.rows.get(key);
    if (!row || row.approval_expires_at === null) return { result: "unknown" };
    // Its expiry is due but the alarm has not run yet: too late all the same.
    if (row.state === "awaiting-approval" && now >= row.approval_expires_at) {
      this.effects.apply(row, { type: "approval-expired" }, now);
      row = this.rows.get(key)!;
    }
    if (row.state !== "awaiting-approval") {
      const result = row.state === "approval-expired" ? "expired" : "already-decided";
      this.effects.log(`approval-${result}`, row, { via: decider.via });
      return { result, command: subjectOf(row) };
    }
    if (!mayDecide(row, decider)) {
      this.effects.log("approval-not-allowed", row, { via: decider.via });
      return { result: "not-allowed", command: subjectOf(row) };
    }
    this.effects.apply(row, { type: decision === "approve" ? "approved" : "denied", by: decider.by, via: decider.via }, now);
    return { result: decision === "approve" ? "approved" : "denied", command: subjectOf(this.rows.get(key)!) };
  }

  /** Expires every command whose approval did not come in time. */
  expire(now: number): void {
    const late = this.sql.exec<CommandRow>("SELECT * FROM commands WHERE state = 'awaiting-approval' AND approval_expires_at <= ?", now).toArray();
    for (const row of late) this.effects.apply(row, { type: "approval-expired" }, now);
  }

  /** When the next approval expires: the ledger's alarm wakes for it. */
  nextExpiry(): number | undefined {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(approval_expires_at) AS at FROM commands WHERE state = 'awaiting-approval'").one().at ?? undefined;
  }

  /**
   * Writes the reports owed: the request for each command newly awaiting approval, the end of
   * each denied or expired one. Each is marked in the same synchronous step, so none is written twice.
   */
  queueReports(reports: Pick<ReportOutbox, "write">, settings: ChannelSettings, now: number): void {
    const requested = this.sql.exec<CommandRow>("SELECT * FROM commands WHERE state = 'awaiting-approval' AND approval_reported = 0").toArray();
    for (const row of requested) {
      for (const report of approvalRequestedReports(reported(row, now), settings)) reports.write(report, row.delivery_id, now);
      this.rows.update(row.key, { approval_reported: 1 });
    }
    const ended = this.sql.exec<CommandRow>("SELECT * FROM commands WHERE state IN ('denied', 'approval-expired') AND approval_reported < 2").toArray();
    for (const row of ended) {
      for (const report of approvalEndedReports(reported(row, now), settings)) reports.write(report, row.delivery_id, now);
      // Its last report: nothing about it is ever sent again.
      this.rows.update(row.key, { approval_reported: 2, started_reported: 1, finished_reported: 1 });
    }
  }
}

/** The value of a command's Approve and Deny buttons. */
export function approvalToken(row: Pick<CommandRow, "key" | "approval_secret">): string | undefined {
  return row.approval_secret ? `${row.key}.${row.approval_secret}` : undefined;
}

/** Who may decide `row`'s approval, as its rule named them; undefined: anyone who can reach it. */
function approversOf(row: CommandRow): string[] | undefined {
  return row.approval_approvers === null ? undefined : (JSON.parse(row.approval_approvers) as string[]);
}

function mayDecide(row: CommandRow, decider: Decider): boolean {
  const approvers = approversOf(row);
  // Slack user ids and emails, both compared without regard to case.
  const identity = decider.identity?.toLowerCase();
  return approvers === undefined || (identity !== undefined && approvers.some((approver) => approver.toLowerCase() === identity));
}

/** A command's approval as the audit trail shows it; undefined when its rule wants none. */
export function approvalOf(row: CommandRow): ApprovalView | undefined {
  if (row.approval_expires_at === null) return undefined;
  const state = row.state === "awaiting-approval" ? "awaiting" : row.state === "denied" ? "denied" : row.state === "approval-expired" ? "expired" : "approved";
  return {
    state,
    expires_at: new Date(row.approval_expires_at).toISOString(),
    ...presentFields({
      approvers: approversOf(row),
      by: row.approval_by,
      via: row.approval_via,
      at: row.approval_at === null ? null : new Date(row.approval_at).toISOString(),
    }),
  };
}

export function subjectOf(row: CommandRow): ApprovalSubject {
  const command = commandOf(row);
  return {
    key: row.key,
    delivery_id: row.delivery_id,
    source: row.source,
    rule: row.rule,
    type: command.type,
    device_id: command.device_id,
    user_email: command.user_email,
    alert_title: reportOf(row).title,
    approval: approvalOf(row)!,
    ...presentFields({ device_name: row.device_name }),
  };
}

function reported(row: CommandRow, now: number): ApprovalReported {
  const { incident_id, notify } = reportOf(row);
  const token = row.state === "awaiting-approval" ? approvalToken(row) : undefined;
  return { ...subjectOf(row), ...presentFields({ incident_id, notify, token }), at: new Date(now).toISOString() };
}
