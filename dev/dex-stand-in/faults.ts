import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { ApiMessage } from "../../src/model/dex-api";
import { ApiFailure, ERROR_CODES } from "./envelope";
import type { StandInEnv } from "./env";

/** The API calls the stand-in counts, and to which faults can be queued. */
export const ROUTES = ["create", "list", "devices", "quota"] as const;
export type Route = (typeof ROUTES)[number];

/** Faults queued per route at once; more is a mistake in a script, not a test plan. */
export const MAX_QUEUED_FAULTS = 100;
/** Longest `delay_ms`: past the relay's 10 s timeout, short of wrangler's own limits. */
export const MAX_DELAY_MS = 60_000;
/** `Retry-After` of a queued 429 when the fault names none. */
export const DEFAULT_FAULT_RETRY_AFTER_SECONDS = 10;

const FaultStatus = z.union([z.literal(429), z.int().min(500).max(599)], {
  error: "status must be 429 or from 500 to 599",
});

const FaultObject = z.strictObject({
  status: FaultStatus,
  land: z.boolean().optional(),
  retry_after: z.int().min(0).max(86_400).optional(),
  delay_ms: z.int().min(0).max(MAX_DELAY_MS).optional(),
});

/** One fault as a developer writes it: a status alone, or an object. */
const FaultInput = z.union([FaultStatus, FaultObject]);

const FaultList = z.array(FaultInput).max(MAX_QUEUED_FAULTS).optional();

/** The body of `POST /__faults`: a list of faults per route, each consumed by one call. */
export const FaultsRequest = z.strictObject({ create: FaultList, list: FaultList, devices: FaultList, quota: FaultList }).superRefine((body, ctx) => {
  for (const route of ROUTES) {
    body[route]?.forEach((fault, i) => {
      if (typeof fault === "number") return;
      const at = (key: string) => [route, i, key];
      // Only a create changes anything, and a 429 means the API did nothing.
      if (fault.land && route !== "create") ctx.addIssue({ code: "custom", path: at("land"), message: "land applies to create only" });
      if (fault.land && fault.status === 429) ctx.addIssue({ code: "custom", path: at("land"), message: "a 429 never lands" });
      if (fault.retry_after !== undefined && fault.status !== 429) {
        ctx.addIssue({ code: "custom", path: at("retry_after"), message: "retry_after applies to 429 only" });
      }
    });
  }
});

/** A queued fault, as `GET /` shows it. */
export interface Fault {
  status: number;
  /** A create that fails this way still creates its commands: the ambiguous case. */
  land: boolean;
  /** Seconds in `Retry-After` (429 only). */
  retry_after: number | null;
  /** Time before the answer: past the caller's timeout, the caller sees a timeout. */
  delay_ms: number;
}

function toFault(input: z.infer<typeof FaultInput>): Fault {
  const { status, land = false, retry_after, delay_ms = 0 } = typeof input === "number" ? { status: input } : input;
  return {
    status,
    land,
    retry_after: status === 429 ? (retry_after ?? DEFAULT_FAULT_RETRY_AFTER_SECONDS) : null,
    delay_ms,
  };
}

/** Faults waiting per route, each taken by the next call of that route, in order. */
export class FaultQueue {
  #pending: Record<Route, Fault[]> = emptyQueues();

  add(request: z.infer<typeof FaultsRequest>): void {
    for (const route of ROUTES) this.#pending[route].push(...(request[route] ?? []).map(toFault));
  }

  take(route: Route): Fault | undefined {
    return this.#pending[route].shift();
  }

  pending(): Record<Route, Fault[]> {
    return structuredClone(this.#pending);
  }

  clear(): void {
    this.#pending = emptyQueues();
  }
}

function emptyQueues(): Record<Route, Fault[]> {
  return { create: [], list: [], devices: [], quota: [] };
}

/** What a fault's status says, in the API's words where it has some. */
function faultError(status: number): ApiMessage {
  if (status === 429) return { code: ERROR_CODES.rateLimited, message: "Please wait and consider throttling your request speed" };
  const reason: Record<number, string> = { 500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout" };
  return { code: ERROR_CODES.internal, message: reason[status] ?? `HTTP ${status}` };
}

/**
 * Answers a call with the next fault queued for its route, if any. A landing fault lets
 * the call do its work first (a create stores its commands) and then answers with the
 * failure; a call the API refuses anyway (a 400) keeps its refusal.
 */
export function injectFaults(
  faults: FaultQueue,
  routeOf: (method: string, path: string) => Route,
  sleep: (ms: number) => Promise<void>,
): MiddlewareHandler<{ Bindings: StandInEnv }> {
  return async function injectFaults(c, next) {
    const fault = faults.take(routeOf(c.req.method, c.req.path));
    if (!fault) return next();
    if (fault.land) {
      await next();
      if (!c.res.ok) return;
    }
    if (fault.delay_ms > 0) await sleep(fault.delay_ms);
    const headers: Record<string, string> = fault.retry_after === null ? {} : { "retry-after": String(fault.retry_after) };
    throw new ApiFailure(fault.status as ContentfulStatusCode, [faultError(fault.status)], headers);
  };
}
