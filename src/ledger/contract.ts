import type { CommandInput } from "../model/dex-api";
import type { Channel } from "../model/channels";
import type { ApprovalView } from "../model/approval";
import type { ReportEntry } from "../model/report-entry";

/**
 * What the queue consumer and the audit API exchange with the command ledger. Everything
 * here crosses a Durable Object RPC boundary, so it is plain data.
 */

/** A command the consumer asks the ledger to send, once. */
export interface LedgerCommand {
  /** Episode × rule × device × type (./keys.ts): the unit of exactly-once. */
  key: string;
  /** Rule × device × type: what a cooldown is about. */
  cooldown_key: string;
  cooldown_minutes: number;
  delivery_id: string;
  source: string;
  /** Index of the alert in its delivery. */
  alert: number;
  episode: string;
  rule: string;
  /** 0 for critical … 4 for an alert without a severity: under the cap, the most severe go first. */
  severity_rank: number;
  command: CommandInput;
  device_name?: string;
  /** Who asked for it, for a capture on demand; unset for a command an alert started. */
  requested_by?: string;
  /** When the relay received the alert (ISO time): the start of the alert → command time. */
  received_at?: string;
  /** What the reports back to the incident say about the alert. */
  report: {
    title: string;
    /** The PagerDuty incident the alert came from. */
    incident_id?: string;
    /** The rule's `notify`; every configured channel when unset. */
    notify?: Channel[];
  };
  /** The rule's `approval`: a person approves the command before it is sent. */
  approval?: { expires_minutes: number; approvers?: string[] };
}

export type LedgerOutcome =
  | "created"
  | "failed"
  /** The API failed or asked to wait; the ledger retries on its own within seconds. */
  | "retrying"
  /**
   * Held by the per-minute command cap or the account's spent command quota; sent as soon as
   * they allow, or recorded as expired once no longer useful.
   */
  | "waiting"
  | "duplicate"
  | "cooldown"
  | "capped"
  /** Dry runs only: every check passed. */
  | "would-create"
  /** Its rule wants a person to approve it; nothing is sent until then. */
  | "awaiting-approval"
  /** A person denied it: never sent. */
  | "denied"
  /** Nobody approved it in time: never sent. */
  | "expired";

/** Where one command stands, as the ledger tells the one who asked. */
export interface LedgerResult {
  key: string;
  outcome: LedgerOutcome;
  reason: string;
  command_id?: string;
}

/** What the ledger knows of one command it holds, for the audit trail. */
export interface LedgerEntry extends LedgerResult {
  delivery_id: string;
  alert: number;
  rule: string;
  type: string;
  device_id: string;
  device_name?: string;
  requested_by?: string;
  attempts: number;
  /** The DEX status once created: PENDING_EXEC, PENDING_UPLOAD, SUCCESS or FAILED. */
  status?: string;
  filename?: string;
  completed_date?: string;
  created_at?: string;
  /** Present when its rule wants approval: where that stands, who decided, how and when. */
  approval?: ApprovalView;
}

/** One report back about a delivery's commands (the report outbox keeps them: ../report/report-outbox.ts). */
export type { ReportEntry } from "../model/report-entry";

/** What the ledger knows of one delivery. */
export interface DeliveryView {
  commands: LedgerEntry[];
  reports: ReportEntry[];
}

/** A refusal by the relay's own API budget: 0 means go ahead. */
export type WaitSeconds = number;

/** A command the ledger created: its rule, its device, and the incident it was reported to. */
export interface MadeCommand {
  rule: string;
  type: CommandInput["type"];
  target: { device_id: string; user_email: string; registration_id?: string };
  incident?: { id: string; title: string };
}
