import type { CompiledRule } from "../config/load-rules";
import type { NormalizedAlert } from "../model/alert";

/** The first condition of a rule that an alert does not meet, said so an operator can fix one or the other. */
export interface FailedCondition {
  condition: "source" | "severity" | "label" | "title";
  /** The label's name, for a label condition. */
  label?: string;
  expected: string;
  actual: string | null;
}

/**
 * Why a rule does not match an alert: the first failing condition in the order the matcher
 * checks them (source, severity, labels, title), or undefined when it matches. Pure, and
 * the same conditions as `matchRules`, for the rule tester.
 */
export function explainRule(alert: NormalizedAlert, rule: CompiledRule): FailedCondition | undefined {
  if (rule.sources && !rule.sources.includes(alert.source)) {
    return { condition: "source", expected: `one of ${rule.sources.join(", ")}`, actual: alert.source };
  }
  if (rule.match.severity && !(alert.severity && rule.match.severity.includes(alert.severity))) {
    return { condition: "severity", expected: `one of ${rule.match.severity.join(", ")}`, actual: alert.severity ?? null };
  }
  for (const { key, value } of rule.labels) {
    const actual = Object.hasOwn(alert.labels, key) ? alert.labels[key]! : null;
    const expected = typeof value === "string" ? `= ${value}` : `matches ${String(value)}`;
    if (actual === null) return { condition: "label", label: key, expected, actual: null };
    if (typeof value === "string" ? actual !== value : !value.test(actual)) return { condition: "label", label: key, expected, actual };
  }
  if (rule.title && !rule.title.test(alert.title)) {
    return { condition: "title", expected: `matches ${String(rule.title)}`, actual: alert.title };
  }
  return undefined;
}
