import { allowsOnDemand, type CompiledRule } from "../config/load-rules";
import type { NormalizedAlert } from "../model/alert";
import type { RuleMatch } from "./match-rules";

/**
 * The match of a capture on demand: the one rule it names, when that rule still allows it
 * (RULES may have changed since it was asked for), aimed at the target asked for. The
 * rule's conditions do not apply, nor its `trust` (the target comes from who asked, not
 * from a sender), nor its fixed `targets`; everything else does: its command, cooldown and
 * `max_devices`, and the device lookup every alert's target goes through.
 */
export function requestedRule(alert: NormalizedAlert, rules: readonly CompiledRule[]): RuleMatch[] {
  const rule = alert.request && rules.find((r) => r.name === alert.request!.rule);
  if (!rule || !allowsOnDemand(rule)) return [];
  return [{ rule: { ...rule, trust: undefined, targets: undefined }, target: alert.target }];
}
