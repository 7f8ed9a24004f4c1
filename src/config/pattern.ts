import { backtrackingRisk } from "./backtracking";

/**
 * Patterns in rules are written either as a bare regular expression (`packet loss`) or,
 * to pass flags, as `/packet loss/i`.
 */
const SLASHED = /^\/(.*)\/([dgimsuvy]*)$/s;

export function compilePattern(source: string): RegExp {
  const slashed = SLASHED.exec(source);
  // `g` and `y` make RegExp stateful across calls; a rule must match the same way every time.
  if (slashed) return new RegExp(slashed[1] ?? "", (slashed[2] ?? "").replace(/[gy]/g, ""));
  return new RegExp(source);
}

/** True when a label value in a rule is a pattern (`/.../flags`) rather than an exact value. */
export function isSlashedPattern(value: string): boolean {
  return SLASHED.test(value);
}

/**
 * What is wrong with a pattern, or undefined when it compiles and passes the backtracking
 * check: a rule must not be able to pin the consumer on a crafted title.
 */
export function patternError(source: string): string | undefined {
  let compiled: RegExp;
  try {
    compiled = compilePattern(source);
  } catch (e) {
    return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`;
  }
  const risk = backtrackingRisk(compiled.source, compiled.flags);
  return risk ? `pattern may backtrack catastrophically: ${risk}` : undefined;
}

/** Named capture groups a pattern declares, in order. */
export function namedGroups(source: string): string[] {
  return Array.from(source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g), (m) => m[1] ?? "");
}
