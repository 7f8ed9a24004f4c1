import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ApiMessage, ResultInfo } from "../../src/model/dex-api";

/**
 * Error codes the stand-in answers with. Authentication, rate limit and unknown route are
 * the API's own; the others are the stand-in's, since the API does not document its.
 */
export const ERROR_CODES = {
  authentication: 10000,
  internal: 10001,
  rateLimited: 971,
  noRoute: 7003,
  malformedJson: 6007,
  invalidRequest: 1001,
  unknownDevice: 1002,
  registrationRequired: 1003,
  unknownRegistration: 1004,
  invalidQuery: 1005,
  quotaExceeded: 1006,
} as const;

/** A refusal with the API's status and `errors[]`; rendered once, by the app's onError. */
export class ApiFailure extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errors: ApiMessage[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors[0]?.message ?? `HTTP ${status}`);
  }
}

/** Shorthand for a refusal with one error. */
export function refuse(status: ContentfulStatusCode, code: number, message: string, pointer?: string): ApiFailure {
  return new ApiFailure(status, [{ code, message, ...(pointer ? { source: { pointer } } : {}) }]);
}

/** The Cloudflare envelope of a success. */
export function succeeded(result: unknown, resultInfo?: ResultInfo) {
  return { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) };
}

/** The Cloudflare envelope of a failure: `result` is null. */
export function failed(errors: ApiMessage[]) {
  return { success: false, errors, messages: [], result: null };
}

/** A request body parsed as JSON, or the API's 400 for malformed JSON. */
export function readJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw refuse(400, ERROR_CODES.malformedJson, "Malformed JSON in request body");
  }
}

/** A schema's complaint as an API error, pointing into the body. */
export function issueToError(issue: z.core.$ZodIssue): ApiMessage {
  const pointer = issue.path.map((part) => `/${String(part)}`).join("");
  return { code: ERROR_CODES.invalidRequest, message: issue.message, source: { pointer: pointer || "/" } };
}
