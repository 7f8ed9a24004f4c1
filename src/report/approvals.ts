import type { ApprovalSubject } from "../model/approval";
import type { Channel } from "../model/channels";
import type { ChannelSettings } from "../config/channels";
import { deciderOf, deviceOf, slackMessage, wants, type OutgoingReport } from "./compose";

/** The action ids of the Approve and Deny buttons: Slack's interactions route dispatches on them. */
export const APPROVE_ACTION = "approval.approve";
export const DENY_ACTION = "approval.deny";

/** A command that needs approval, as its reports speak of it. */
export interface ApprovalReported extends ApprovalSubject {
  incident_id?: string;
  notify?: readonly Channel[];
  /** What its Approve and Deny buttons carry, while it awaits a decision. */
  token?: string;
  /** When the report's event happened. */
  at: string;
}

/** This command's row among the console's approvals; none without RELAY_PUBLIC_URL. */
export function approvalLink(command: Pick<ApprovalSubject, "key">, settings: ChannelSettings): string | undefined {
  return settings.publicUrl ? `${settings.publicUrl}/console#approval-${command.key}` : undefined;
}

/**
 * The request for approval: a note on the PagerDuty incident with the console's link, a Slack
 * message with Approve and Deny (when Slack's clicks can be verified), a result-webhook event.
 */
export function approvalRequestedReports(command: ApprovalReported, settings: ChannelSettings): OutgoingReport[] {
  const link = approvalLink(command, settings);
  const where = link ? `Approve or deny it in the console: ${link}` : "Approve or deny it in the relay's console (/console).";
  const text = approvalText(command);
  const reports: OutgoingReport[] = [];
  if (wants(command, "incident", settings)) reports.push(note(command, "approval.requested", `${text} ${where}`));
  if (wants(command, "slack", settings)) {
    const buttons = settings.slack!.buttons && command.token ? [approvalButtons(command.token)] : [];
    reports.push({
      channel: "slack",
      event: "approval.requested",
      body: JSON.stringify(slackMessage(buttons.length ? text : `${text} ${where}`, command, buttons)),
    });
  }
  if (wants(command, "webhook", settings)) reports.push(webhook(command, "approval.requested", link));
  return reports;
}

/**
 * A denied or expired approval: nothing was sent. Slack hears of it unless the decision was
 * made there, where the clicked message already says it.
 */
export function approvalEndedReports(command: ApprovalReported, settings: ChannelSettings): OutgoingReport[] {
  const event = command.approval.state === "denied" ? "approval.denied" : "approval.expired";
  const text = approvalText(command);
  const reports: OutgoingReport[] = [];
  if (wants(command, "incident", settings)) reports.push(note(command, event, text));
  if (wants(command, "slack", settings) && command.approval.via !== "slack") {
    reports.push({ channel: "slack", event, body: JSON.stringify(slackMessage(text, command)) });
  }
  if (wants(command, "webhook", settings)) reports.push(webhook(command, event));
  return reports;
}

/** Where an approval stands, in one sentence: what every message about it says. */
export function approvalText(command: ApprovalSubject): string {
  const what = `${command.type} on ${deviceOf(command)} (rule ${command.rule})`;
  const { approval } = command;
  switch (approval.state) {
    case "awaiting": {
      const who = approval.approvers ? ` (only ${approval.approvers.join(", ")} may decide)` : "";
      return `${what} awaits approval${who}: nothing is sent to the device unless someone approves it by ${approval.expires_at}.`;
    }
    case "approved":
      return `${what} was approved by ${deciderOf(approval)} at ${approval.at}; the relay is sending it.`;
    case "denied":
      return `${what} was denied by ${deciderOf(approval)} at ${approval.at}; it was never sent.`;
    case "expired":
      return `${what} expired at ${approval.at}: nobody approved it in time, and it was never sent.`;
  }
}

/** A rule's approvers as Slack shows them: a user id as a mention, an email as it is. */
export function approversText(approvers: readonly string[]): string {
  return approvers.map((approver) => (/^[UW][A-Z0-9]+$/.test(approver) ? `<@${approver}>` : approver)).join(", ");
}

/**
 * What a clicked approval message becomes (through the click's `response_url`): where the
 * approval stands now, its buttons gone, and what the click did.
 */
export function slackUpdate(command: ApprovalSubject, said?: string) {
  return { replace_original: true, ...slackMessage(said ? `${approvalText(command)}\n${said}` : approvalText(command), command) };
}

/** Slack's Block Kit `actions`: both buttons carry the token that names this one command. */
function approvalButtons(token: string) {
  const button = (action_id: string, text: string, style: string) => ({ type: "button", action_id, text: { type: "plain_text", text }, style, value: token });
  return { type: "actions", block_id: "approval", elements: [button(APPROVE_ACTION, "Approve", "primary"), button(DENY_ACTION, "Deny", "danger")] };
}

function note(command: ApprovalReported, event: OutgoingReport["event"], content: string): OutgoingReport {
  return { channel: "incident", event, incident_id: command.incident_id, body: JSON.stringify({ note: { content } }) };
}

function webhook(command: ApprovalReported, event: OutgoingReport["event"], link?: string): OutgoingReport {
  const { token: _secret, notify: _notify, incident_id: _incident, at, ...data } = command;
  return { channel: "webhook", event, body: JSON.stringify({ type: event, timestamp: at, data: { ...data, ...(link ? { console_url: link } : {}) } }) };
}
