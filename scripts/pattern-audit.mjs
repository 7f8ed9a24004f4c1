/**
 * The full check of rule patterns, shared by `npm run check:patterns` (scripts/check-patterns.mjs,
 * under Node) and the tests (inside workerd): recheck decides whether a pattern can backtrack
 * catastrophically, by automata theory or by fuzzing. It is a development tool: nothing in
 * src/ imports it, so it never reaches the Worker's bundle. The Worker's own structural check
 * (src/config/backtracking.ts) runs every time RULES is loaded; this one is slower and finer.
 * @see https://makenowjust-labs.github.io/recheck/
 */

/**
 * Highest polynomial degree accepted: the same as the structural check's
 * MAX_BACKTRACKING_DEGREE (the tests hold the two equal). Patterns only ever see the first
 * 1,024 characters of a title or label, so the degree bounds the work.
 */
export const MAX_DEGREE = 3;

/**
 * A fixed seed, so that the fuzzing checker gives the same verdict on every run; attack
 * strings bounded far above the 1,024 characters patterns see but far below recheck's
 * default (300,000), which keeps its memory within what one workerd isolate allows; a
 * timeout generous enough for a busy machine, where the JavaScript checker is slow.
 */
export const RECHECK_PARAMS = Object.freeze({ randomSeed: 20261125, timeout: 180_000, maxAttackStringSize: 20_000 });

/** `/source/flags` as rules write patterns with flags; mirrors src/config/pattern.ts. */
const SLASHED = /^\/(.*)\/([dgimsuvy]*)$/s;

/** A rule pattern as the Worker compiles it: `g` and `y` dropped, a bare one without flags. */
export function splitPattern(text) {
  const slashed = SLASHED.exec(text);
  if (!slashed) return { source: text, flags: "" };
  return { source: slashed[1] ?? "", flags: (slashed[2] ?? "").replace(/[gy]/g, "") };
}

/**
 * Every pattern of a RULES value (the array, or its JSON text), with the path the Worker's
 * loader would name it by: `RULES[0].match.title`, `RULES[2].match.labels.service`. A label
 * value is a pattern only when written `/…/flags`; anything else is an exact value.
 */
export function rulePatterns(rules) {
  const list = typeof rules === "string" ? JSON.parse(rules) : rules;
  if (!Array.isArray(list)) throw new Error("RULES: expected an array of rules");
  const found = [];
  list.forEach((rule, index) => {
    const match = rule?.match ?? {};
    if (typeof match.title === "string") found.push({ path: `RULES[${index}].match.title`, pattern: match.title });
    for (const [key, value] of Object.entries(match.labels ?? {})) {
      if (typeof value === "string" && SLASHED.test(value)) found.push({ path: `RULES[${index}].match.labels.${key}`, pattern: value });
    }
  });
  return found;
}

/**
 * Why recheck's diagnostics make a pattern unsafe, or undefined when they do not: exponential
 * backtracking, a polynomial of a higher degree than {@link MAX_DEGREE}, or no verdict at all
 * (a timeout or syntax it does not know is refused, as the structural check refuses what it
 * cannot parse).
 */
export function verdict(diagnostics) {
  if (diagnostics.status === "safe") return undefined;
  if (diagnostics.status === "unknown")
    return `recheck could not decide (${diagnostics.error.kind}${diagnostics.error.message ? `: ${diagnostics.error.message}` : ""})`;
  const { complexity, attack } = diagnostics;
  if (complexity.type === "polynomial" && complexity.degree <= MAX_DEGREE) return undefined;
  const kind = complexity.type === "exponential" ? "exponential backtracking" : `${complexity.summary} backtracking (degree ${MAX_DEGREE} at most is allowed)`;
  return `${kind}; attack string: ${attack.pattern.slice(0, 120)}`;
}

/** Checks one pattern with recheck's `check` or `checkSync` (either may be passed). */
export async function auditPattern(check, pattern) {
  const { source, flags } = splitPattern(pattern);
  try {
    new RegExp(source, flags);
  } catch (error) {
    return { pattern, problem: `invalid regular expression: ${error.message}` };
  }
  const diagnostics = await check(source, flags, RECHECK_PARAMS);
  return { pattern, diagnostics, problem: verdict(diagnostics) };
}
