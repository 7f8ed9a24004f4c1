import type { Severity } from "../model/alert";

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
