import { readChannels } from "../../config/channels";
import { logEvent, logProblem } from "../../record/log";
import { REPORT_TIMEOUT_MS } from "../../report/send-report";

/** Slack's host for `response_url`s. */
const SLACK_HOOKS = "https://hooks.slack.com";

/**
 * Replaces (or answers under) the clicked message through the click's `response_url`. Only
 * Slack's own host is written to — or the host SLACK_WEBHOOK_URL points at, where a local
 * stand-in plays Slack — so that a request can never make the relay post elsewhere. The URL
 * is a credential for that message: it is never logged.
 */
export async function respondInSlack(env: Env, responseUrl: string | undefined, message: object): Promise<void> {
  if (!responseUrl) return;
  if (!allowed(env, responseUrl)) return logProblem("slack-response-refused", { reason: "response_url is not on Slack's host nor SLACK_WEBHOOK_URL's" });
  try {
    const res = await fetch(responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) logEvent("slack-response-sent", { status: res.status });
    else logProblem("slack-response-failed", { status: res.status });
  } catch (error) {
    logProblem("slack-response-failed", { error: error instanceof Error ? error.name : "unknown" });
  }
}

function allowed(env: Env, url: string): boolean {
  const origin = originOf(url);
  const stand = originOf(readChannels(env).settings.slack?.url ?? "");
  return origin !== undefined && (origin === SLACK_HOOKS || origin === stand);
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}
