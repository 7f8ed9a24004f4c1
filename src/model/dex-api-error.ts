import { FailureEnvelope, type ApiMessage } from "./dex-api";

/**
 * What a failed DEX API call means for the caller:
 * - `rate-limited`: nothing was done; every call is refused until `retryAfterSeconds` pass.
 * - `ambiguous`: the request may or may not have taken effect (5xx, timeout, lost
 *   connection, unreadable success). A create must be reconciled with a list, never
 *   blindly retried: the API has no idempotency key, so a retry can duplicate commands.
 * - `rejected`: the API (or the client, before sending) refused the request as it is;
 *   sending it again unchanged will fail the same way.
 */
export type DexApiErrorKind = "rate-limited" | "ambiguous" | "rejected";

/**
 * Going over the API's rate limit locks the token out for five minutes; `Retry-After`
 * usually says so, and this is the wait assumed when it does not.
 */
export const RATE_LIMIT_LOCKOUT_SECONDS = 300;

/** `errors[].code` for refusals raised by the client itself: the API never sent them. */
export const CLIENT_REFUSAL_CODE = 0;

const MIN_SECRET_LENGTH_TO_REDACT = 8;

interface DexApiErrorDetails {
  status?: number;
  errors?: ApiMessage[];
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A DEX API call that did not succeed. The message is short and names the status and the
 * API's first complaint; it never carries the API token or a request body.
 */
export class DexApiError extends Error {
  override readonly name = "DexApiError";
  readonly kind: DexApiErrorKind;
  /** The HTTP status, when a response arrived at all. */
  readonly status?: number;
  /** The API's own `errors[]`, or the client's refusals in the same shape. */
  readonly errors: ApiMessage[];
  /** Only on `rate-limited`: how long to send nothing at all. */
  readonly retryAfterSeconds?: number;

  constructor(kind: DexApiErrorKind, message: string, details: DexApiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /**
   * The same error with every occurrence of `secret` cut out of its message and errors:
   * a response that echoes the token must not carry it into a log.
   */
  withoutSecret(secret: string): DexApiError {
    // Real API tokens are 40 characters; cutting a shorter string would garble ordinary words.
    if (secret.length < MIN_SECRET_LENGTH_TO_REDACT) return this;
    const scrub = (text: string) => text.split(secret).join("[redacted]");
    return new DexApiError(this.kind, scrub(this.message), {
      status: this.status,
      errors: this.errors.map((e) => ({ ...e, message: scrub(e.message) })),
      retryAfterSeconds: this.retryAfterSeconds,
      cause: this.cause,
    });
  }
}

/** Narrows an unknown thrown value to a DexApiError. */
export function isDexApiError(e: unknown): e is DexApiError {
  return e instanceof DexApiError;
}

/**
 * Seconds to wait, from a `Retry-After` header in either of its forms (delta-seconds or an
 * HTTP date). Anything missing or unreadable means the documented five-minute lockout.
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function retryAfterSeconds(header: string | null, now: Date): number {
  const value = header?.trim();
  if (!value) return RATE_LIMIT_LOCKOUT_SECONDS;
  if (/^\d+$/.test(value)) return Number(value);
  const until = Date.parse(value);
  if (Number.isNaN(until)) return RATE_LIMIT_LOCKOUT_SECONDS;
  return Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}

/**
 * Classifies a non-2xx response. Reads the body (once) only to carry the API's
 * `errors[]`; a body that is not the Cloudflare envelope becomes one synthetic error
 * naming the status, so callers always have something to show.
 */
export async function errorFromResponse(res: Response, now: Date): Promise<DexApiError> {
  const errors = await readErrors(res);
  if (res.status === 429) {
    const wait = retryAfterSeconds(res.headers.get("retry-after"), now);
    return new DexApiError("rate-limited", `DEX API 429: rate limited, retry after ${wait} s`, {
      status: 429,
      errors,
      retryAfterSeconds: wait,
    });
  }
  // 5xx (and anything that is neither success nor a client error) may have been acted on.
  const kind = res.status >= 400 && res.status < 500 ? "rejected" : "ambiguous";
  return new DexApiError(kind, `DEX API ${res.status}: ${errors[0]?.message}`, {
    status: res.status,
    errors,
  });
}

/**
 * A 2xx whose envelope says `success: false`. With errors it is a refusal; without any,
 * nothing says whether the request took effect.
 */
export function errorFromUnsuccessfulEnvelope(status: number, errors: ApiMessage[]): DexApiError {
  if (errors.length === 0) {
    return new DexApiError("ambiguous", `DEX API ${status}: success is false and no errors were given`, {
      status,
    });
  }
  return new DexApiError("rejected", `DEX API ${status}: ${errors[0]?.message}`, { status, errors });
}

async function readErrors(res: Response): Promise<ApiMessage[]> {
  const text = await res.text().catch(() => "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = FailureEnvelope.safeParse(json);
  if (parsed.success && parsed.data.errors.length > 0) return parsed.data.errors;
  const statusText = res.statusText ? ` ${res.statusText}` : "";
  return [{ code: res.status, message: `HTTP ${res.status}${statusText} without a Cloudflare error body` }];
}

/**
 * Whether the API refused a create because the account's command quota is spent. The API
 * documents no code for this; what is certain is that it is a refusal (a 4xx, 429 included,
 * or `success: false` with errors), so nothing was created, and that its errors speak of the
 * quota. Anything else keeps its own meaning: a 5xx that mentions a quota may still have
 * created the commands, and the client's own refusals never mention one.
 */
export function isQuotaRefusal(error: DexApiError): boolean {
  if (error.kind === "ambiguous") return false;
  return error.errors.some((e) => e.code !== CLIENT_REFUSAL_CODE && /quota/i.test(e.message));
}
