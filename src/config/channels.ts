import { logEvent } from "../record/log";
import { readSecret } from "./secrets";
import { webhookSecretKey } from "../crypto/webhook-secret";
import type { Channel } from "../model/channels";
import { oncePerVariables } from "./once-per-variables";
import { httpUrl, pagerDutyApiBase, relayPublicUrl } from "./urls";

/** The settings of each channel that is on; a channel whose settings are unset is off. */
export interface ChannelSettings {
  incident?: { apiBase: string; token: string; from: string };
  /** `buttons`: Slack's clicks can be verified (SLACK_SIGNING_SECRET), so approvals carry Approve and Deny. */
  slack?: { url: string; buttons: boolean };
  webhook?: { url: string; key: Uint8Array };
  /** The relay's public base URL, for download and console links; no link without it. */
  publicUrl?: string;
}

export interface ChannelsResult {
  settings: ChannelSettings;
  /** Each channel that is off, and why: said once at start, and by the health check. */
  off: Array<{ channel: Channel; reason: string }>;
}

/** The variables the channels are read from: the same values give the same settings. */
const CHANNEL_VARIABLES = [
  "PAGERDUTY_API_TOKEN",
  "PAGERDUTY_FROM_EMAIL",
  "PAGERDUTY_API_BASE",
  "SLACK_WEBHOOK_URL",
  "SLACK_SIGNING_SECRET",
  "RESULT_WEBHOOK_URL",
  "RESULT_WEBHOOK_SECRET",
  "RELAY_PUBLIC_URL",
] as const;

/**
 * Reads the channels' settings, once per isolate for the same variables. Nothing here fails
 * the relay: a channel that is not fully configured is off, and a result webhook whose
 * secret is not a valid `whsec_` key is off rather than sent unsigned.
 */
export const readChannels: (env: Env) => ChannelsResult = oncePerVariables(CHANNEL_VARIABLES, (env) => {
  const channels = channelsOf(env);
  // Said when an isolate first reads them, so an operator sees which reports will not be sent.
  for (const { channel, reason } of channels.off) logEvent("report-channel-off", { channel, reason });
  return channels;
});

function channelsOf(env: Env): ChannelsResult {
  const settings: ChannelsResult["settings"] = {};
  const off: ChannelsResult["off"] = [];
  const token = readSecret(env, "PAGERDUTY_API_TOKEN");
  const from = env.PAGERDUTY_FROM_EMAIL?.trim();
  if (token && from) {
    settings.incident = { apiBase: pagerDutyApiBase(env), token, from };
  } else {
    off.push({ channel: "incident", reason: token ? "PAGERDUTY_FROM_EMAIL is not set" : "PAGERDUTY_API_TOKEN is not set" });
  }
  const slack = httpUrl(readSecret(env, "SLACK_WEBHOOK_URL"));
  if (slack) settings.slack = { url: slack, buttons: readSecret(env, "SLACK_SIGNING_SECRET") !== undefined };
  else off.push({ channel: "slack", reason: "SLACK_WEBHOOK_URL is not set to an http(s) URL" });
  const webhookUrl = httpUrl(env.RESULT_WEBHOOK_URL);
  const key = webhookKey(readSecret(env, "RESULT_WEBHOOK_SECRET"));
  if (webhookUrl && key) settings.webhook = { url: webhookUrl, key };
  else off.push({ channel: "webhook", reason: webhookUrl ? "RESULT_WEBHOOK_SECRET is not a whsec_ secret" : "RESULT_WEBHOOK_URL is not set" });
  const publicUrl = relayPublicUrl(env);
  if (publicUrl) settings.publicUrl = publicUrl;
  return { settings, off };
}

/** The relay signs with this much key at least: a receiver cannot tell a guessable one. */
const MIN_SIGNING_KEY_BYTES = 16;

/** The key of a Standard Webhooks secret (`whsec_` followed by base64), when it is long enough to sign with. */
function webhookKey(secret: string | undefined): Uint8Array | undefined {
  const key = secret ? webhookSecretKey(secret) : undefined;
  return key && key.length >= MIN_SIGNING_KEY_BYTES ? key : undefined;
}
