import { ON_DEMAND_SOURCE } from "../model/alert";
import type { ApprovalView } from "../model/approval";
import { captureAgainButton } from "./capture-again";
import type { Channel } from "../model/channels";
import type { ChannelSettings } from "../config/channels";

/** A command as the reports speak of it. */
export interface ReportedCommand {
  command_id: string;
  type: string;
  status: string;
  device_id: string;
  device_name?: string;
  user_email: string;
  rule: string;
  delivery_id: string;
  source: string;
  alert_title: string;
  /** Who asked for it, for a capture on demand. */
  requested_by?: string;
  /** The PagerDuty incident the alert came from (or a capture on demand was asked for in): only these write to PagerDuty. */
  incident_id?: string;
  /** The rule's `notify`; every configured channel when unset. */
  notify?: readonly Channel[];
  completed_date?: string;
  filename?: string;
  /** Its rule wanted approval: who gave it, how and when. */
  approval?: ApprovalView;
  /** When the event happened: the create, or the status read that saw it finish. */
  at: string;
}

export type ReportEvent = "command.created" | "command.finished" | "approval.requested" | "approval.denied" | "approval.expired";

/** One message to one channel, ready to send: the body is fixed, so every retry sends the same. */
export interface OutgoingReport {
  channel: Channel;
  event: ReportEvent;
  /** The incident a note goes to. */
  incident_id?: string;
  body: string;
}

/**
 * The "started" messages for the commands one alert started: one note on the incident and one
 * Slack message for all of them, one result-webhook event per command.
 */
export function startedReports(commands: readonly ReportedCommand[], settings: ChannelSettings): OutgoingReport[] {
  const reports: OutgoingReport[] = [];
  const forNote = commands.filter((c) => wants(c, "incident", settings));
  if (forNote.length > 0) {
    reports.push({
      channel: "incident",
      event: "command.created",
      incident_id: forNote[0]!.incident_id,
      body: JSON.stringify({ note: { content: startedText(forNote) } }),
    });
  }
  const forSlack = commands.filter((c) => wants(c, "slack", settings));
  if (forSlack.length > 0)
    reports.push({ channel: "slack", event: "command.created", body: JSON.stringify(slackMessage(startedText(forSlack), forSlack[0]!)) });
  for (const command of commands.filter((c) => wants(c, "webhook", settings))) {
    reports.push({ channel: "webhook", event: "command.created", body: JSON.stringify(webhookEvent("command.created", command, settings)) });
  }
  return reports;
}

/** The "finished" messages for one command: SUCCESS with its download link, or FAILED. */
export function finishedReports(command: ReportedCommand, settings: ChannelSettings): OutgoingReport[] {
  const text = finishedText(command, settings);
  const reports: OutgoingReport[] = [];
  if (wants(command, "incident", settings)) {
    reports.push({ channel: "incident", event: "command.finished", incident_id: command.incident_id, body: JSON.stringify({ note: { content: text } }) });
  }
  if (wants(command, "slack", settings)) {
    // Only where Slack's clicks can be verified: a button nobody can trust would do nothing.
    const buttons = settings.slack!.buttons ? [captureAgainButton(command.command_id)] : [];
    reports.push({ channel: "slack", event: "command.finished", body: JSON.stringify(slackMessage(text, command, buttons)) });
  }
  if (wants(command, "webhook", settings)) {
    reports.push({ channel: "webhook", event: "command.finished", body: JSON.stringify(webhookEvent("command.finished", command, settings)) });
  }
  return reports;
}

/** The download link of a finished command's file, for operators only. */
export function downloadUrl(command: Pick<ReportedCommand, "command_id" | "filename">, settings: ChannelSettings): string | undefined {
  if (!command.filename || !settings.publicUrl) return undefined;
  return `${settings.publicUrl}/v1/commands/${encodeURIComponent(command.command_id)}/download`;
}

/** Whether a report about this command goes to `channel`: the channel is on, the rule's `notify` names it. */
export function wants(command: Pick<ReportedCommand, "notify" | "source" | "incident_id">, channel: Channel, settings: ChannelSettings): boolean {
  if (!settings[channel]) return false;
  if (command.notify && !command.notify.includes(channel)) return false;
  // Only alerts that came from PagerDuty, and captures asked for in an incident, write to PagerDuty.
  return channel !== "incident" || ((command.source === "pagerduty" || command.source === ON_DEMAND_SOURCE) && !!command.incident_id);
}

/** "pcap and warp-diag started on JANE-MBP (jane.doe@example.com) by rules a and b." One sentence per device. */
export function startedText(commands: readonly ReportedCommand[]): string {
  const byDevice = new Map<string, ReportedCommand[]>();
  for (const command of commands) byDevice.set(command.device_id, [...(byDevice.get(command.device_id) ?? []), command]);
  return [...byDevice.values()]
    .map((group) => {
      const rules = [...new Set(group.map((c) => c.rule))];
      const approvals = group.flatMap((c) => (c.approval?.by ? [` ${c.type} approved by ${deciderOf(c.approval)}.`] : []));
      return `${list(group.map((c) => c.type))} started on ${deviceOf(group[0]!)} by rule${rules.length > 1 ? "s" : ""} ${list(rules)}${askedBy(group[0]!)}.${approvals.join("")}`;
    })
    .join("\n");
}

export function finishedText(command: ReportedCommand, settings: ChannelSettings): string {
  const head = `${command.type} on ${deviceOf(command)} (rule ${command.rule}${askedBy(command)}) finished: ${command.status}.`;
  if (command.status !== "SUCCESS") {
    return `${head} DEX reported the command as ${command.status}${command.completed_date ? ` at ${command.completed_date}` : ""}; its detail is on the device's page in the Zero Trust dashboard.`;
  }
  const link = downloadUrl(command, settings);
  if (link) return `${head} Download (operators only): ${link}`;
  return command.filename ? `${head} File ${command.filename} is ready; set RELAY_PUBLIC_URL for a download link.` : head;
}

export function deviceOf(command: Pick<ReportedCommand, "device_name" | "device_id" | "user_email">): string {
  return `${command.device_name ?? command.device_id} (${command.user_email})`;
}

/** ", asked for by oncall@example.com": a capture on demand names who asked. */
function askedBy(command: ReportedCommand): string {
  return command.requested_by ? `, asked for by ${command.requested_by}` : "";
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Slack's mrkdwn treats these three as markup: a title must not become a link or a mention. */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** "@jane (U123) in Slack", "oncall@example.com in the console", "admin token through the operator API". */
export function deciderOf(approval: ApprovalView): string {
  const where = { slack: "in Slack", console: "in the console", api: "through the operator API" };
  return `${approval.by} ${where[approval.via ?? "console"]}`;
}

/** A Slack message: the text, any `blocks` (buttons) after it, and the alert or request it is about. */
export function slackMessage(
  text: string,
  about: Pick<ReportedCommand, "source" | "alert_title" | "delivery_id" | "requested_by">,
  blocks: readonly object[] = [],
) {
  const context = `${about.requested_by ? "capture on demand" : `${about.source} alert`}: ${about.alert_title} · delivery ${about.delivery_id}`;
  return {
    text: `${text}\n${context}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: slackEscape(text) } },
      ...blocks,
      { type: "context", elements: [{ type: "mrkdwn", text: slackEscape(context) }] },
    ],
  };
}

/** The result webhook's event, as the README documents it. */
function webhookEvent(type: "command.created" | "command.finished", command: ReportedCommand, settings: ChannelSettings) {
  const link = downloadUrl(command, settings);
  return {
    type,
    timestamp: command.at,
    data: {
      command_id: command.command_id,
      type: command.type,
      status: command.status,
      device_id: command.device_id,
      device_name: command.device_name ?? null,
      user_email: command.user_email,
      rule: command.rule,
      delivery_id: command.delivery_id,
      source: command.source,
      alert_title: command.alert_title,
      ...(command.requested_by ? { requested_by: command.requested_by } : {}),
      ...(type === "command.finished" ? { completed_date: command.completed_date ?? null, filename: command.filename ?? null } : {}),
      ...(link ? { download_url: link } : {}),
      ...(command.approval ? { approval: command.approval } : {}),
    },
  };
}
