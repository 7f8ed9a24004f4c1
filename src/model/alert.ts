import * as z from "./zod";

/** Severities every source is normalized to, most urgent first. */
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

/** 0 for critical … 4 for an alert without a severity: where an alert goes when not all can go at once. */
export function severityRank(severity: Severity | undefined): number {
  return severity ? SEVERITIES.indexOf(severity) : SEVERITIES.length;
}

export const TARGET_FIELDS = ["device_id", "user_email", "registration_id", "hostname"] as const;

/** Who the alert is about. Any field may be missing; rules and device lookup fill the gaps. */
export const AlertTarget = z.object({
  device_id: z.optional(z.string()),
  user_email: z.optional(z.string()),
  registration_id: z.optional(z.string()),
  hostname: z.optional(z.string()),
});
export type AlertTarget = z.infer<typeof AlertTarget>;

/**
 * The source of the alerts that are requests for a capture on demand (an operator in the
 * console or the API, a responder's PagerDuty action, a Slack button): a rule may be asked
 * for so only when its `match.source` names it.
 */
export const ON_DEMAND_SOURCE = "operator";
/** Where a capture on demand was asked for. */
export const REQUEST_CHANNELS = ["console", "api", "pagerduty", "slack"] as const;

/** Who asked for a capture on demand, where, and which rule's command they asked for. */
export const CaptureRequest = z.object({
  rule: z.string(),
  requested_by: z.string(),
  via: z.enum(REQUEST_CHANNELS),
});
export type CaptureRequest = z.infer<typeof CaptureRequest>;

/**
 * One alert in the shape every later stage works with, whatever tool sent it: what a source
 * makes of a delivery, and what the queue carries to the consumer, checked again there.
 * Only data needed to decide and to audit is kept: never the raw payload.
 */
export const NormalizedAlert = z.object({
  source: z.string(),
  /**
   * Names one firing episode of one alert: retries, repeats and re-notifications of the
   * same episode carry the same value, so they can never create a second command.
   */
  episode: z.string().check(z.minLength(1)),
  title: z.string(),
  severity: z.optional(Severity),
  /** Only firing alerts act; the others are recorded as `not-firing`. */
  firing: z.boolean(),
  /** The source's own word for the state (`triggered`, `resolved`, `Recovered`...), for the audit trail. */
  status: z.string(),
  labels: z.record(z.string(), z.string()),
  target: AlertTarget,
  /** Source-specific references a later stage may follow (a PagerDuty incident id, say). */
  refs: z.optional(z.record(z.string(), z.string())),
  /**
   * Set only on the one alert a capture on demand makes: its rule is the one named here,
   * whatever else the alert says, and its target is the one asked for.
   */
  request: z.optional(CaptureRequest),
});
export type NormalizedAlert = z.infer<typeof NormalizedAlert>;
