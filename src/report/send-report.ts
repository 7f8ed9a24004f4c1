import { parseRetryAfter } from "../model/retry-after";
import type { ChannelSettings } from "../config/channels";
import type { OutgoingReport } from "./compose";
import { standardWebhookHeaders } from "./standard-webhooks";

/** A receiver that has not answered by then is tried again later. */
export const REPORT_TIMEOUT_MS = 10_000;

export type SendOutcome =
  | { state: "sent" }
  /** 5xx, 408, 429, a timeout or a lost connection: worth trying again, after `afterSeconds` when the receiver said. */
  | { state: "retry"; error: string; afterSeconds?: number }
  /** Any other 4xx: the receiver refuses it as it is. */
  | { state: "failed"; error: string };

/**
 * Sends one report. Errors name the channel and the status, never the URL: a Slack webhook
 * URL is itself a secret.
 */
export async function sendReport(report: OutgoingReport & { id: string }, settings: ChannelSettings, now: Date): Promise<SendOutcome> {
  const request = await requestFor(report, settings, now);
  if (!request) return { state: "failed", error: `the ${report.channel} channel is off` };
  let res: Response;
  try {
    res = await fetch(request.url, { method: "POST", headers: request.headers, body: report.body, signal: AbortSignal.timeout(REPORT_TIMEOUT_MS) });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { state: "retry", error: timedOut ? `${report.channel} did not answer within ${REPORT_TIMEOUT_MS} ms` : `${report.channel} unreachable` };
  }
  // The answer's body is not needed, and an unread body holds the connection.
  await res.body?.cancel();
  if (res.ok) return { state: "sent" };
  const error = `${report.channel} answered HTTP ${res.status}`;
  if (res.status === 429) return { state: "retry", error, afterSeconds: parseRetryAfter(res.headers.get("retry-after"), now) };
  if (res.status >= 500 || res.status === 408) return { state: "retry", error };
  return { state: "failed", error };
}

async function requestFor(report: OutgoingReport & { id: string }, settings: ChannelSettings, now: Date) {
  const json = { "content-type": "application/json" };
  switch (report.channel) {
    case "incident":
      if (!settings.incident || !report.incident_id) return undefined;
      return {
        url: `${settings.incident.apiBase}/incidents/${encodeURIComponent(report.incident_id)}/notes`,
        headers: {
          ...json,
          accept: "application/vnd.pagerduty+json;version=2",
          authorization: `Token token=${settings.incident.token}`,
          from: settings.incident.from,
        },
      };
    case "slack":
      return settings.slack ? { url: settings.slack.url, headers: json } : undefined;
    case "webhook":
      if (!settings.webhook) return undefined;
      return { url: settings.webhook.url, headers: { ...json, ...(await standardWebhookHeaders(report.id, report.body, settings.webhook.key, now)) } };
  }
}
