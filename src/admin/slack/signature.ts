import { verifyHmacSha256Hex } from "../../crypto/hmac";
import { unauthorized } from "../../model/http-errors";

/** How far Slack's request timestamp may be from the relay's clock, either way: Slack's own five minutes. */
export const SLACK_TOLERANCE_SECONDS = 300;

/**
 * Throws a 401 unless `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256, under one of
 * `secrets` (the app's signing secret; two during a rotation), of `v0:{timestamp}:{raw body}`,
 * with `X-Slack-Request-Timestamp` within five minutes of `now`, so that a captured click
 * cannot be replayed later. No secret: every request is refused.
 * @see https://api.slack.com/authentication/verifying-requests-from-slack
 */
export async function verifySlackSignature(body: Uint8Array, headers: Headers, secrets: readonly string[], now: Date): Promise<void> {
  if (secrets.length === 0) throw unauthorized("SLACK_SIGNING_SECRET is not set");
  const timestamp = headers.get("x-slack-request-timestamp");
  const signature = /^v0=([0-9a-f]{64})$/i.exec(headers.get("x-slack-signature")?.trim() ?? "")?.[1];
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw unauthorized("missing or malformed X-Slack-Request-Timestamp");
  if (!signature) throw unauthorized("missing or malformed X-Slack-Signature");
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TOLERANCE_SECONDS)
    throw unauthorized("X-Slack-Request-Timestamp is more than five minutes away");
  const prefix = new TextEncoder().encode(`v0:${timestamp}:`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  for (const secret of secrets) if (await verifyHmacSha256Hex(secret, signed, signature)) return;
  throw unauthorized("X-Slack-Signature does not match");
}
