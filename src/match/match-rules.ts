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
 * Named groups in a matching rule's title fill in the alert's target, so a rule without a
 * title pattern still reaches the device another matching rule found in the title.
 */
export function matchRules(alert: NormalizedAlert, rules: readonly CompiledRule[]): RuleMatch[] {
  const matches: RuleMatch[] = [];
  let target: AlertTarget = { ...alert.target };
  for (const rule of rules) {
    const found = matchRule(alert, rule);
    if (!found) continue;
    matches.push({ rule, target: found });
    target = fillTarget(target, found);
  }
  return matches.map((match) => ({ ...match, target: fillTarget(match.target, target) }));
}

function matchRule(alert: NormalizedAlert, rule: CompiledRule): AlertTarget | undefined {
  if (rule.sources && !rule.sources.includes(alert.source)) return undefined;
  if (rule.match.severity && !(alert.severity && rule.match.severity.includes(alert.severity))) return undefined;
  for (const { key, value } of rule.labels) {
    // Own labels only: `constructor` or `toString` is not a label every alert has.
    const actual = Object.hasOwn(alert.labels, key) ? alert.labels[key] : undefined;
    if (actual === undefined) return undefined;
    if (typeof value === "string" ? actual !== value : !value.test(actual)) return undefined;
  }
  if (!rule.title) return { ...alert.target };
  const found = rule.title.exec(alert.title);
  if (!found) return undefined;
  return fillTarget(alert.target, found.groups);
}

/** Fills in what `target` does not say from `groups`; what it does say wins. */
function fillTarget(target: AlertTarget, groups: { readonly [field: string]: string | undefined } | AlertTarget | undefined): AlertTarget {
  const filled: AlertTarget = { ...target };
  for (const field of TARGET_FIELDS) {
    const value = groups?.[field]?.trim();
    if (!filled[field] && value) filled[field] = value;
  }
  return filled;
}
