import { ON_DEMAND_SOURCE } from "../model/alert";
import { formatIssues } from "../model/schema-issues";
import { compilePattern, isSlashedPattern } from "./pattern";
import { ANY_SOURCE, RulesSchema, type Rule } from "./rules-schema";

/** A rule with its patterns compiled once, when the configuration is loaded. */
export interface CompiledRule extends Rule {
  sources?: readonly string[];
  title?: RegExp;
  labels: ReadonlyArray<{ key: string; value: string | RegExp }>;
}

export type RulesResult = { ok: true; rules: CompiledRule[] } | { ok: false; error: string };

/**
 * Reads `RULES`, given either as the array of wrangler.jsonc's `vars.RULES`
 * or as the same array in a JSON string (`.dev.vars`, `--var`). Every problem is reported
 * with the path of what is wrong: `RULES[2].command.type: ...`.
 */
export function loadRules(raw: unknown, knownSources: readonly string[]): RulesResult {
  if (raw === undefined || raw === null || raw === "") return { ok: false, error: "RULES is not set" };
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, error: "RULES: not valid JSON" };
    }
  }
  const forbidden = forbiddenLabel(value);
  if (forbidden) return { ok: false, error: forbidden };
  const parsed = RulesSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error, "RULES") };

  const unknown = unknownSources(parsed.data, knownSources);
  if (unknown) return { ok: false, error: unknown };
  return { ok: true, rules: parsed.data.map(compileRule) };
}

/**
 * A label condition or a trust entry named `__proto__` would be dropped on parsing (it is no
 * ordinary key), leaving a rule that says something else than it reads: refuse it by name.
 */
function forbiddenLabel(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const [index, rule] of value.entries()) {
    const labels: unknown = rule?.match?.labels;
    if (labels && typeof labels === "object" && Object.hasOwn(labels, "__proto__")) {
      return `RULES[${index}].match.labels.__proto__: a label named __proto__ is not allowed`;
    }
    const trust: unknown = rule?.trust;
    if (trust && typeof trust === "object" && Object.hasOwn(trust, "__proto__")) {
      return `RULES[${index}].trust.__proto__: __proto__ is not a source`;
    }
  }
  return undefined;
}

function unknownSources(rules: Rule[], knownSources: readonly string[]): string | undefined {
  for (const [index, rule] of rules.entries()) {
    const sources = [rule.match.source ?? []].flat();
    for (const [i, source] of sources.entries()) {
      if (!knownSources.includes(source) && source !== ON_DEMAND_SOURCE) {
        const path = Array.isArray(rule.match.source) ? `.source[${i}]` : ".source";
        return `RULES[${index}].match${path}: unknown source "${source}" (known: ${[...knownSources, ON_DEMAND_SOURCE].join(", ")})`;
      }
    }
    for (const source of Object.keys(rule.trust ?? {})) {
      if (source !== ANY_SOURCE && !knownSources.includes(source)) {
        return `RULES[${index}].trust.${source}: unknown source (known: ${knownSources.join(", ")}, or "${ANY_SOURCE}" for the others)`;
      }
    }
  }
  return undefined;
}

/**
 * Whether the rule may be asked for on demand: only when its `match.source` names
 * `operator` itself, so that no rule written before captures on demand existed (one without
 * `match.source` matches every source) can be run by hand.
 */
export function allowsOnDemand(rule: Pick<CompiledRule, "sources">): boolean {
  return rule.sources?.includes(ON_DEMAND_SOURCE) ?? false;
}

function compileRule(rule: Rule): CompiledRule {
  const { source, title, labels } = rule.match;
  return {
    ...rule,
    sources: source === undefined ? undefined : [source].flat(),
    title: title === undefined ? undefined : compilePattern(title),
    labels: Object.entries(labels ?? {}).map(([key, value]) => ({
      key,
      value: isSlashedPattern(value) ? compilePattern(value) : value,
    })),
  };
}
