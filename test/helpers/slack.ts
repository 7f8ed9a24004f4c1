import { hmacSha256Hex } from "../../src/crypto/hmac";
import { RELAY } from "./relay";
import { fetchReporting, REPORTING } from "./reports";

/** The Slack app the tests of reports configure (./reports.ts). */
export const SLACK_SIGNING_SECRET = REPORTING.SLACK_SIGNING_SECRET as string;
export const SLACK_TEAM = REPORTING.SLACK_TEAM_ID as string;
/** Where Slack lets the relay replace a clicked message: on the webhook's host, as the configuration allows. */
export const RESPONSE_URL = "https://hooks.slack.test/actions/T0TEST/1111/response-token";

/** The `X-Slack-Signature` Slack sends: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export async function signSlack(body: string, timestamp: number | string, secret = SLACK_SIGNING_SECRET): Promise<string> {
  return `v0=${await hmacSha256Hex(secret, `v0:${timestamp}:${body}`)}`;
}

/** A `block_actions` payload as Slack sends it when someone clicks a button of a message. */
export function blockActions(action_id: string, value: string, options: { team?: string | null; user?: string; response_url?: string } = {}) {
  const team = options.team === undefined ? SLACK_TEAM : options.team;
  const user = options.user ?? "U0APPROVER";
  return {
    type: "block_actions",
    user: { id: user, username: "jane.oncall", name: "jane.oncall", team_id: team ?? "T0OTHER" },
    api_app_id: "A0RELAY",
    token: "deprecated-verification-token",
    container: { type: "message", message_ts: "1796720400.000100", channel_id: "C0ALERTS", is_ephemeral: false },
    trigger_id: "1796720400.111.abcdef",
    team: team === null ? null : { id: team, domain: "acme" },
    channel: { id: "C0ALERTS", name: "dex-alerts" },
    message: { type: "message", text: "pcap on JANE-MBP awaits approval", ts: "1796720400.000100" },
    response_url: options.response_url ?? RESPONSE_URL,
    actions: [{ action_id, block_id: "approval", text: { type: "plain_text", text: "Approve" }, value, type: "button", action_ts: "1796720401.000200" }],
  };
}

/**
 * Posts an interaction to the relay as Slack does: form-encoded `payload=`, signed now (or
 * at `timestamp`, or with another `secret`, or with the `signature` given).
 */
export async function postSlackClick(payload: unknown, options: { timestamp?: number; secret?: string; signature?: string } = {}) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetchReporting(`${RELAY}/v1/slack/interactions`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": options.signature ?? (await signSlack(body, timestamp, options.secret)),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}
