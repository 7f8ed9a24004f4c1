/**
 * Approval before sending (rules with `approval`), as the ledger, the reports, Slack and the
 * console exchange it: plain data, it crosses the Durable Object boundary.
 */

/** Where a person approved or denied a command: a Slack button, the console, or the operator API (a script). */
export type ApprovalVia = "slack" | "console" | "api";

export type ApprovalDecision = "approve" | "deny";

/** A command's approval, for the audit trail: where it stands, and who decided, how and when. */
export interface ApprovalView {
  state: "awaiting" | "approved" | "denied" | "expired";
  expires_at: string;
  /** Who may decide, when the rule names them (Slack user ids and Access emails). */
  approvers?: string[];
  by?: string;
  via?: ApprovalVia;
  /** When it was approved, denied or expired. */
  at?: string;
}

/** A command that needs approval, as the one asked to decide sees it. */
export interface ApprovalSubject {
  key: string;
  delivery_id: string;
  source: string;
  rule: string;
  type: string;
  device_id: string;
  device_name?: string;
  user_email: string;
  alert_title: string;
  approval: ApprovalView;
}

/**
 * The answer to a click or a form: `approved`/`denied` when this request decided it;
 * `already-decided`, `expired`, `not-allowed` (the rule's `approvers` do not name who asked)
 * and `unknown` when it changed nothing.
 */
export type ApprovalAnswer =
  | { result: "approved" | "denied" | "already-decided" | "expired" | "not-allowed"; command: ApprovalSubject }
  | { result: "unknown" };
