import * as z from "../../model/zod";
import { MAX_LABEL_VALUE_LENGTH, MAX_TARGET_LENGTH, MAX_TITLE_LENGTH, MAX_VENDOR_ID_LENGTH } from "../limits";

/** Titles and ids are refused past the bounds in ../limits, so the template gets fixed. */
const MAX_TRANSITION_LENGTH = 64;

/**
 * `$ALERT_TRANSITION` values that start (or continue) an alert, compared in lower case
 * without punctuation, so `Re-Triggered` and `Retriggered` agree. Everything else
 * (Recovered, Warn, Re-Warn, No Data, Renotify...) is recorded as not firing.
 */
export const FIRING_TRANSITIONS: readonly string[] = ["triggered", "retriggered"];

/** A template variable left as written, which Datadog may do when it has no value for it. */
const UNSUBSTITUTED = /^\$[A-Z][A-Z0-9_]*$/;

/**
 * Trims every string field and drops those Datadog could not fill in (left empty, or left
 * as `$VARIABLE`), so a variable without a value reads as a field that is absent.
 */
function withoutBlanks(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const kept: [string, unknown][] = [];
  for (const [key, field] of Object.entries(value)) {
    if (typeof field !== "string") kept.push([key, field]);
    else if (field.trim() !== "" && !UNSUBSTITUTED.test(field.trim())) kept.push([key, field.trim()]);
  }
  return Object.fromEntries(kept);
}

/** Datadog substitutes ids as text; a template that leaves them unquoted sends numbers. */
const Id = z.union([z.string().check(z.maxLength(MAX_VENDOR_ID_LENGTH)), z.pipe(z.number().check(z.int(), z.nonnegative()), z.transform(String))]);
/** Scope, link and priority become labels or references. */
const Text = z.optional(z.string().check(z.maxLength(MAX_LABEL_VALUE_LENGTH)));
const Identity = z.optional(z.string().check(z.maxLength(MAX_TARGET_LENGTH)));

/**
 * A Datadog webhook built from the relay's template (see ./template.ts). Only `alert_id`,
 * `transition` and one of `cycle` or `id` are required: they name the episode and say
 * whether it fires. The result's `cycle` is `$ALERT_CYCLE_KEY`, else the event's `$ID`.
 * @see https://docs.datadoghq.com/integrations/webhooks/#usage
 */
export const DatadogNotification = z.pipe(
  z.transform(withoutBlanks),
  z.pipe(
    z.object({
      id: z.optional(Id),
      alert_id: Id,
      cycle: z.optional(Id),
      transition: z.string().check(z.maxLength(MAX_TRANSITION_LENGTH)),
      title: z.optional(z.string().check(z.maxLength(MAX_TITLE_LENGTH))),
      hostname: Identity,
      scope: Text,
      // `$TAGS`: a host can carry hundreds of tags, bounded only by the body limit.
      tags: z.optional(z.string()),
      // `$DATE`, milliseconds since the epoch: text in the template, a number if unquoted.
      date: z.optional(z.union([z.number(), z.string()])),
      link: Text,
      priority: Text,
      severity: Text,
      user_email: Identity,
      device_id: Identity,
      registration_id: Identity,
    }),
    z.transform((notification, ctx) => {
      const cycle = notification.cycle ?? notification.id;
      if (cycle === undefined) {
        ctx.issues.push({
          code: "custom",
          path: ["cycle"],
          message: "required ($ALERT_CYCLE_KEY), or at least id ($ID)",
          input: notification,
        });
        return z.NEVER;
      }
      return { ...notification, cycle };
    }),
  ),
);

export type DatadogNotification = z.output<typeof DatadogNotification>;
