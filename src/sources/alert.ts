/** Severities every source is normalized to, most urgent first. */
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Who the alert is about. Any field may be missing; rules and device lookup fill the gaps. */
export interface AlertTarget {
  device_id?: string;
  user_email?: string;
  registration_id?: string;
  hostname?: string;
}

export const TARGET_FIELDS = ["device_id", "user_email", "registration_id", "hostname"] as const;

/**
 * One alert in the shape every later stage works with, whatever tool sent it.
 * Only data needed to decide and to audit is kept: never the raw payload.
 */
export interface NormalizedAlert {
  source: string;
  /**
   * Names one firing episode of one alert: retries, repeats and re-notifications of the
   * same episode carry the same value, so they can never create a second command.
   */
  episode: string;
  title: string;
  severity?: Severity;
  /** Only firing alerts act; the others are recorded as `not-firing`. */
  firing: boolean;
  /** The source's own word for the state (`triggered`, `resolved`, `Recovered`...), for the audit trail. */
  status: string;
  labels: Record<string, string>;
  target: AlertTarget;
  /** Source-specific references a later stage may follow (a PagerDuty incident id, say). */
  refs?: Record<string, string>;
}

/** Maps the many ways tools spell severity onto the four the rules speak. */
export function normalizeSeverity(value: string | undefined | null): Severity | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  if (["critical", "crit", "p1", "sev1", "sev-1", "fatal", "emergency", "alert", "high", "disaster", "page"].includes(v)) {
    return "critical";
  }
  if (["error", "err", "p2", "sev2", "sev-2", "major"].includes(v)) return "error";
  if (["warning", "warn", "p3", "sev3", "sev-3", "minor", "medium", "average"].includes(v)) return "warning";
  if (["info", "informational", "information", "p4", "p5", "sev4", "sev5", "low", "notice", "debug", "ok"].includes(v)) {
    return "info";
  }
  return undefined;
}
