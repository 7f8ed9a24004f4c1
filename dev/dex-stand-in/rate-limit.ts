import type { MiddlewareHandler } from "hono";
import { ApiFailure, ERROR_CODES } from "./envelope";
import type { StandInEnv } from "./env";

/** The API allows this many requests per token in a rolling window... */
export const DEFAULT_RATE_LIMIT = 1200;
export const RATE_LIMIT_WINDOW_MS = 5 * 60_000;
/** ...and going over blocks every call for this long. */
export const LOCKOUT_MS = 5 * 60_000;

/** Counts requests in a rolling window and locks everything out once the limit is passed. */
export class RollingRateLimit {
  #hits: number[] = [];
  #lockedUntil = 0;

  /** Records one request at `now`; returns the seconds to wait when it is refused. */
  refuse(now: number, limit: number): number | undefined {
    if (now < this.#lockedUntil) return Math.ceil((this.#lockedUntil - now) / 1000);
    while (this.#hits.length > 0 && (this.#hits[0] ?? 0) <= now - RATE_LIMIT_WINDOW_MS) this.#hits.shift();
    if (this.#hits.length >= limit) {
      this.#lockedUntil = now + LOCKOUT_MS;
      this.#hits = [];
      return LOCKOUT_MS / 1000;
    }
    this.#hits.push(now);
    return undefined;
  }

  reset(): void {
    this.#hits = [];
    this.#lockedUntil = 0;
  }
}

/** The limit from `STAND_IN_RATE_LIMIT` when it is a positive integer, else the API's. */
export function rateLimitFrom(value: string | undefined): number {
  const limit = Number(value);
  return Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_RATE_LIMIT;
}

/** Answers 429 with `Retry-After` while the limiter refuses, as the API does. */
export function rateLimit(limiter: RollingRateLimit, now: () => Date): MiddlewareHandler<{ Bindings: StandInEnv }> {
  return async function rateLimit(c, next) {
    // `c.env` is absent when a test calls `app.request` without bindings.
    const limit = rateLimitFrom((c.env as StandInEnv | undefined)?.STAND_IN_RATE_LIMIT);
    const wait = limiter.refuse(now().getTime(), limit);
    if (wait !== undefined) {
      const message = "Please wait and consider throttling your request speed";
      throw new ApiFailure(429, [{ code: ERROR_CODES.rateLimited, message }], { "retry-after": String(wait) });
    }
    await next();
  };
}
