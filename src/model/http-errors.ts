import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every refusal is an HTTPException carrying its status and a short message that says
 * what to check; `app.onError` turns it into `{ "error": message }`. Messages never
 * include secrets, signatures or the payload itself.
 */
function refusal(status: ContentfulStatusCode) {
  return (message: string) => new HTTPException(status, { message });
}

export const badRequest = refusal(400);
/**
 * The message says why, for the log and for tests; callers only ever see
 * {@link UNAUTHORIZED}, whatever the reason (see `app.onError`).
 */
export const unauthorized = refusal(401);
/** The whole body of every 401, so that a refusal tells an unauthenticated caller nothing. */
export const UNAUTHORIZED = "unauthorized";
export const notFound = refusal(404);
/**
 * What is asked for exists but cannot be acted on or read as it stands (a record a newer
 * release wrote): asking again will not change the answer.
 */
export const conflict = refusal(409);
export const payloadTooLarge = refusal(413);
export const unsupportedMediaType = refusal(415);
/**
 * A sender past its rate: `429` with `Retry-After`, so a sender that retries (PagerDuty,
 * Standard Webhooks senders) comes back when there is room.
 */
export function tooManyRequests(message: string, retryAfterSeconds: number): HTTPException {
  const res = new Response(JSON.stringify({ error: message }), {
    status: 429,
    headers: { "content-type": "application/json", "retry-after": String(retryAfterSeconds) },
  });
  return new HTTPException(429, { message, res });
}
/** The relay cannot act right now but will once fixed: senders retry 5xx. */
export const unavailable = refusal(503);
export const misconfigured = refusal(500);
