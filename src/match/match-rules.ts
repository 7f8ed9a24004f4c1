import type { CompiledRule } from "../config/load-rules";
import { ANY_SOURCE, type TrustEntry } from "../config/rules-schema";
import { TARGET_FIELDS, type AlertTarget, type NormalizedAlert } from "../model/alert";

/**
 * Longest text a rule's pattern runs against: titles and label values are cut to it before
 * matching, so that even a pattern the backtracking check let through does bounded work.
 * Sources keep titles of up to 1,024 characters; this is the same bound.
 */
export const MAX_MATCH_TEXT_LENGTH = 1024;

/** A rule that fired for an alert, with the target fields the rule trusts from it. */
export interface RuleMatch {
  rule: CompiledRule;
  target: AlertTarget;
}

type Groups = { readonly [field: string]: string | undefined } | AlertTarget | undefined;

/**
 * Every rule that matches the alert yields its command. A rule matches when each condition
 * it states holds: source, severity, labels (exact or /pattern/), and title pattern.
 *
 * The target each match carries holds only what the rule trusts (`trust`): fields of the
 * alert itself, and named groups of the rule's own title. A rule without a title pattern
 * takes title groups found by the other matching rules only when its `trust` lists them.
 * What the alert itself says wins over what a title suggests.
 */
export function matchRules(alert: NormalizedAlert, rules: readonly CompiledRule[]): RuleMatch[] {
  const fired: Array<{ rule: CompiledRule; groups: Groups }> = [];
  for (const rule of rules) {
    const found = matchRule(alert, rule);
    if (found) fired.push({ rule, groups: found.groups });
  }
  const shared: AlertTarget = {};
  for (const { groups } of fired) fillTarget(shared, groups);
  return fired.map(({ rule, groups }) => ({ rule, target: trustedTarget(alert, rule, rule.title ? groups : rule.trust ? shared : undefined) }));
}

/**
 * The entries of `trust` that apply to alerts from `source`. A rule without `trust` takes
 * every field of the alert and every named group of its own title.
 */
export function trustedEntries(rule: Pick<CompiledRule, "trust">, source: string): ReadonlySet<TrustEntry> {
  if (!rule.trust) return ALL_ENTRIES;
  const key = Object.hasOwn(rule.trust, source) ? source : ANY_SOURCE;
  const listed = Object.hasOwn(rule.trust, key) ? rule.trust[key] : undefined;
  return new Set(listed ?? []);
}

/** What the rule trusts of the alert's own target (the consumer applies it to targets it finds later, too). */
export function trustedAlertFields(rule: Pick<CompiledRule, "trust">, source: string, target: AlertTarget): AlertTarget {
  const entries = trustedEntries(rule, source);
  const kept: AlertTarget = {};
  for (const field of TARGET_FIELDS) {
    const value = target[field]?.trim();
    if (value && entries.has(field)) kept[field] = value;
  }
  return kept;
}

const ALL_ENTRIES: ReadonlySet<TrustEntry> = new Set<TrustEntry>([...TARGET_FIELDS, ...TARGET_FIELDS.map((f) => `title.${f}` as const)]);

function trustedTarget(alert: NormalizedAlert, rule: CompiledRule, titleGroups: Groups): AlertTarget {
  const entries = trustedEntries(rule, alert.source);
  const target = trustedAlertFields(rule, alert.source, alert.target);
  for (const field of TARGET_FIELDS) {
    const value = titleGroups?.[field as keyof AlertTarget]?.trim();
    if (!target[field] && value && entries.has(`title.${field}`)) target[field] = value;
  }
  return target;
}

function matchRule(alert: NormalizedAlert, rule: CompiledRule): { groups: Groups } | undefined {
  if (rule.sources && !rule.sources.includes(alert.source)) return undefined;
  if (rule.match.severity && !(alert.severity && rule.match.severity.includes(alert.severity))) return undefined;
  for (const { key, value } of rule.labels) {
    // Own labels only: `constructor` or `toString` is not a label every alert has.
    const actual = Object.hasOwn(alert.labels, key) ? alert.labels[key] : undefined;
    if (actual === undefined) return undefined;
    if (typeof value === "string" ? actual !== value : !value.test(bounded(actual))) return undefined;
  }
  if (!rule.title) return { groups: undefined };
  const found = rule.title.exec(bounded(alert.title));
  if (!found) return undefined;
  return { groups: found.groups };
}

function bounded(text: string): string {
  return text.length > MAX_MATCH_TEXT_LENGTH ? text.slice(0, MAX_MATCH_TEXT_LENGTH) : text;
}

/** Fills in what `target` does not say from `groups`; what it does say wins. */
function fillTarget(target: AlertTarget, groups: Groups): void {
  for (const field of TARGET_FIELDS) {
    const value = groups?.[field as keyof AlertTarget]?.trim();
    if (!target[field] && value) target[field] = value;
  }
}
