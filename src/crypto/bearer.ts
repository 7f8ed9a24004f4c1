import { secretsEqual } from "./compare";

/** The scheme in any case (RFC 9110 §11.1), then one token; spaces around the token are allowed. */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header. */
export function bearerToken(header: string | null | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

/**
 * Checks an `Authorization: Bearer <token>` header against the expected token, compared in
 * constant time. Answers why it was refused, for the log and never for the caller, or
 * undefined when it matches. Hono's `bearerAuth` middleware is not used: the sources verify
 * inside their adapter, on the delivery, and Grafana and webhook senders fall back to a
 * bearer token only when they did not sign; the operator routes take it or an Access token.
 * And it accepts only RFC 6750's b64token characters and answers a malformed header with
 * 400: a token with any other character, which every release so far has accepted, would
 * lock its owner out after an upgrade, and every refusal here is the same 401.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export async function bearerRefusal(header: string | null | undefined, expected: string): Promise<string | undefined> {
  if (!header) return "missing Authorization header";
  const token = bearerToken(header);
  if (!token) return "Authorization must be 'Bearer <token>'";
  return (await secretsEqual(token, expected)) ? undefined : "invalid bearer token";
}
