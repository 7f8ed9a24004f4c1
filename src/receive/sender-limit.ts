import { sha256Hex } from "../crypto/hmac";
import { bearerToken } from "../crypto/bearer";
import { tooManyRequests } from "../model/http-errors";
import { logProblem } from "../record/log";
import { CLOUDFLARE_AUTH_HEADER } from "../sources/cloudflare/auth";
import { GRAFANA_SIGNATURE_HEADER } from "../sources/grafana/signature";
import { PAGERDUTY_SIGNATURE_HEADER } from "../sources/pagerduty/signature";
import { WEBHOOK_SIGNATURE_HEADER } from "../sources/webhook/signature";

/**
 * What a sender over its rate is told to wait: the longest period the rate-limiting binding
 * allows (60 s), so the window has turned by then whichever period wrangler.jsonc sets.
 */
export const SENDER_RETRY_AFTER_SECONDS = 60;

/** Headers that carry a signature: it changes with every body, so it names no sender. */
const SIGNATURE_HEADERS = [PAGERDUTY_SIGNATURE_HEADER, GRAFANA_SIGNATURE_HEADER, WEBHOOK_SIGNATURE_HEADER];

/** The binding wrangler.jsonc declares; a deploy without it is not limited. */
type LimiterEnv = { SENDER_LIMITER?: RateLimit };

/**
 * Which sender a verified delivery comes from, for its rate limit: the credential it
 * presented (a bearer token, Cloudflare's `cf-webhook-auth` secret) hashed with its source,
 * so that the key names one token without holding it; a signed delivery, by its source alone
 * (one signing secret per source, and the signature differs for every body).
 */
export async function senderKey(source: string, headers: Headers): Promise<string> {
  if (SIGNATURE_HEADERS.some((name) => headers.has(name))) return `${source}:signed`;
  const credential = headers.get(CLOUDFLARE_AUTH_HEADER)?.trim() || bearerToken(headers.get("authorization"));
  if (!credential) return `${source}:anonymous`;
  return `${source}:${(await sha256Hex(`${source}\n${credential}`)).slice(0, 32)}`;
}

/**
 * Throws a 429 with `Retry-After` once the sender has used its rate (`[[ratelimits]]` in
 * wrangler.jsonc), so that a leaked token fills neither the queue nor the DEX API budget, and
 * every other sender keeps its own room.
 *
 * Called after the delivery is verified: a forged request is refused 401 (as cheaply as a
 * 429) and never spends a real sender's allowance, which matters for signed sources, whose
 * deliveries share one key. When the binding is missing or fails, the delivery goes through:
 * the limit protects the relay, it never decides whether an alert is authentic.
 * @see https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/
 */
export async function limitSender(env: Env, source: string, headers: Headers): Promise<void> {
  const limiter = (env as LimiterEnv).SENDER_LIMITER;
  if (!limiter) return;
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key: await senderKey(source, headers) }));
  } catch (error) {
    logProblem("sender-limit-failed", { source, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  // Not logged: a flood would write a line per request. `GET /metrics` counts them by source.
  if (success) return;
  throw tooManyRequests(`too many deliveries from this sender; retry after ${SENDER_RETRY_AFTER_SECONDS} s`, SENDER_RETRY_AFTER_SECONDS);
}
