import type { CompiledRule } from "../config/load-rules";
import { TARGET_FIELDS, type AlertTarget, type NormalizedAlert } from "../sources/alert";

/** A rule that fired for an alert, with the alert's target as the rule sees it. */
export interface RuleMatch {
  rule: CompiledRule;
  target: AlertTarget;
}

/**
 * Every rule that matches the alert yields its command. A rule matches when each condition
 * it states holds: source, severity, labels (exact or /pattern/), and title pattern.
 */
export function matchRules(alert: NormalizedAlert, rules: readonly CompiledRule[]): RuleMatch[] {
  const matches: RuleMatch[] = [];
  for (const rule of rules) {
    const target = matchRule(alert, rule);
    if (target) matches.push({ rule, target });
  }
  return matches;
}

function matchRule(alert: NormalizedAlert, rule: CompiledRule): AlertTarget | undefined {
  if (rule.sources && !rule.sources.includes(alert.source)) return undefined;
  if (rule.match.severity && !(alert.severity && rule.match.severity.includes(alert.severity))) return undefined;
  for (const { key, value } of rule.labels) {
    const actual = alert.labels[key];
    if (actual === undefined) return undefined;
    if (typeof value === "string" ? actual !== value : !value.test(actual)) return undefined;
  }
  if (!rule.title) return { ...alert.target };
  const found = rule.title.exec(alert.title);
  if (!found) return undefined;
  return fillTarget(alert.target, found.groups);
}

/** Named groups fill in what the alert itself did not say; what it did say wins. */
function fillTarget(target: AlertTarget, groups: Record<string, string | undefined> | undefined): AlertTarget {
  const filled: AlertTarget = { ...target };
  for (const field of TARGET_FIELDS) {
    const value = groups?.[field]?.trim();
    if (!filled[field] && value) filled[field] = value;
  }
  return filled;
}
