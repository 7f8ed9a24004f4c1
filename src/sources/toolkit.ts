import { TARGET_FIELDS, type AlertTarget } from "../model/alert";
import { badRequest } from "../model/http-errors";
import { formatIssues } from "../model/schema-issues";
import * as z from "../model/zod";
import { MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_TITLE_LENGTH } from "./limits";

/** The body as JSON, or a 400. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw badRequest("body is not valid JSON");
  }
}

/** The body as a JSON object (not an array, not a scalar), or a 400. */
export function parseJsonObject(body: string): Record<string, unknown> {
  const json = parseJson(body);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw badRequest("body must be a JSON object");
  return json as Record<string, unknown>;
}

/** `value` as `schema` reads it, or a 400 that names each field that is wrong (never its value). */
export function parseOrRefuse<T extends z.ZodMiniType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(formatIssues(parsed.error));
  return parsed.data;
}

/** A source's usual first step: the body as JSON, then as its schema reads it; a 400 otherwise. */
export function parseBody<T extends z.ZodMiniType>(schema: T, body: string): z.output<T> {
  return parseOrRefuse(schema, parseJson(body));
}

/**
 * A field that only adds context (a label, a severity hint): a value of an unexpected shape
 * is dropped rather than refused, since the alert is worth acting on without it.
 */
export function lenient<T extends z.ZodMiniType>(schema: T) {
  return z.catch(z.optional(schema), undefined);
}

/** The target fields that are given (trimmed-empty ones are not), whatever else `fields` holds. */
export function alertTarget(fields: Readonly<Partial<Record<keyof AlertTarget, string | undefined>>>): AlertTarget {
  const target: AlertTarget = {};
  for (const field of TARGET_FIELDS) {
    const value = fields[field];
    if (value) target[field] = value;
  }
  return target;
}

/** A title within {@link MAX_TITLE_LENGTH}, cut with an ellipsis. */
export function cutTitle(title: string): string {
  return title.length > MAX_TITLE_LENGTH ? `${title.slice(0, MAX_TITLE_LENGTH - 1)}…` : title;
}

/**
 * The labels within {@link MAX_LABELS} and the length bounds, in order. Labels past them are
 * dropped rather than cut: a cut value could match a rule it should not. `fromEntries` keeps
 * a key named like an Object.prototype member as a plain label.
 */
export function boundedLabels(entries: Iterable<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries(
    Array.from(entries)
      .filter(([key, value]) => key.length <= MAX_LABEL_KEY_LENGTH && value.length <= MAX_LABEL_VALUE_LENGTH)
      .slice(0, MAX_LABELS),
  );
}
