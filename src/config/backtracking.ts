import { RegExpParser, type AST } from "@eslint-community/regexpp";
import { addTo, emptySet, fullSet, matches, overlaps, type CharSet } from "./char-set";
import { alternation, isStart, type Node } from "./pattern-tree";

/**
 * A structural check for rule patterns that could make the regular-expression engine
 * backtrack for seconds or forever on a crafted title. It is conservative: it may refuse a
 * pattern that is in fact safe, never the other way round for the shapes it knows (nested
 * and overlapping repetition). A fuller checker (`npm run check` and `npm run check:patterns`, scripts/pattern-audit.mjs)
 * also measures polynomial cases; this one runs in the Worker every time `RULES` is loaded.
 */

/** Highest number of repetitions one run of the same character may be split across. */
export const MAX_BACKTRACKING_DEGREE = 3;

/** Why the pattern may backtrack catastrophically, or undefined when it passes the check. */
export function backtrackingRisk(source: string, flags = ""): string | undefined {
  // Classes of the `v` flag nest, subtract, and match whole strings (`[\q{aa|a}]`, `\p{RGI_Emoji}`),
  // which can be as ambiguous as an alternation: beyond what this check reads.
  if (flags.includes("v")) return "the backtracking check does not read the v flag's classes (nested, with strings): use u";
  let pattern: AST.Pattern;
  try {
    // ES2024: ES2025's group modifiers `(?i:…)` and names repeated across alternatives are
    // refused, since the full checker (recheck, in `npm run check:patterns`) cannot read them.
    pattern = new RegExpParser({ ecmaVersion: 2024 }).parsePattern(source, 0, source.length, { unicode: flags.includes("u") });
  } catch {
    // Unparseable here, though it compiled: refuse rather than guess.
    return "the pattern uses syntax the backtracking check does not understand";
  }
  const tree = alternation(pattern.alternatives, { ignoreCase: flags.includes("i"), dotAll: flags.includes("s"), unicode: flags.includes("u") });
  const nested = nestedRepetition(tree);
  if (nested) return nested;
  // `^a|b*b*b*x` is tried at every position all the same: anchored only when every branch is.
  const anchored = pattern.alternatives.every((branch) => isStart(branch.elements[0])) && !flags.includes("m");
  const degree = maxDegree(tree, anchored);
  if (degree > MAX_BACKTRACKING_DEGREE) {
    return `up to ${degree} repetitions can share one run of the same character (at most ${MAX_BACKTRACKING_DEGREE}): separate them with characters they cannot match`;
  }
  return undefined;
}

/** A repetition whose body can match the same text in more than one way. */
function nestedRepetition(node: Node): string | undefined {
  switch (node.kind) {
    case "seq":
      for (const item of node.items) {
        const found = nestedRepetition(item);
        if (found) return found;
      }
      return undefined;
    case "alt":
      for (const branch of node.branches) {
        const found = nestedRepetition(branch);
        if (found) return found;
      }
      return undefined;
    case "repeat": {
      const inner = nestedRepetition(node.body);
      if (inner) return inner;
      if (node.max <= 1 || unambiguousBody(node.body)) return undefined;
      return "a repeated group contains another repetition or an alternation that can match the same text (as in (a+)+ or (\\w+\\s?)*)";
    }
    default:
      return undefined;
  }
}

/**
 * A body that splits any text one way only, so repeating it cannot multiply the work:
 * fixed text; an alternation of fixed branches that start with different characters; or
 * fixed text around a single repeated character class, fenced by a character it cannot match
 * (`\.[\w-]+`, `\d+\.`).
 */
function unambiguousBody(body: Node): boolean {
  if (isFixed(body)) return true;
  if (body.kind === "alt") {
    if (!body.branches.every((b) => isFixed(b) && !nullable(b))) return false;
    const firsts = body.branches.map(first);
    return firsts.every((a, i) => firsts.every((b, j) => i === j || !overlaps(a, b)));
  }
  const items = flatten(body);
  const variable = items.filter((item) => !isFixed(item));
  if (variable.length !== 1) return false;
  const [loop] = variable;
  if (loop?.kind !== "repeat" || loop.body.kind !== "char") return false;
  return items.some((item) => item.kind === "char" && !overlaps(item.set, loop.body.kind === "char" ? loop.body.set : item.set));
}

/**
 * How many repetitions one run of a single character can be shared between, at most: the
 * degree of the polynomial the engine's work grows with, for the worst such character. An
 * unanchored pattern is tried at every position, which counts as one more repetition in
 * front of whatever the run reaches from the pattern's start.
 */
function maxDegree(tree: Node, anchored: boolean): number {
  let worst = 0;
  for (let code = 0; code <= 128; code++) {
    const found = chain(tree, code);
    worst = Math.max(worst, found.best, anchored ? 0 : 1 + found.prefix);
  }
  return worst;
}

/**
 * For one character (128 standing for any non-ASCII one): whether a run of it can flow
 * through the node (`passes`) and how many repetitions share it on the way (`count`), the
 * repetitions sharing a run that starts at the node's start (`prefix`) or ends at its end
 * (`suffix`), and the longest chain anywhere inside (`best`).
 */
interface Chain {
  passes: boolean;
  count: number;
  prefix: number;
  suffix: number;
  best: number;
}

function chain(node: Node, code: number): Chain {
  switch (node.kind) {
    case "char": {
      return { passes: matches(node.set, code), count: 0, prefix: 0, suffix: 0, best: 0 };
    }
    case "empty":
      return { passes: true, count: 0, prefix: 0, suffix: 0, best: 0 };
    case "backref":
      return { passes: true, count: 1, prefix: 1, suffix: 1, best: 1 };
    case "repeat": {
      const inner = chain(node.body, code);
      if (node.max > 1 && inner.passes) {
        const count = inner.count + 1;
        return { passes: true, count, prefix: count, suffix: count, best: Math.max(inner.best, count) };
      }
      const passes = inner.passes || node.min === 0;
      const count = inner.passes ? inner.count : 0;
      const across = node.max > 1 ? inner.suffix + inner.prefix : 0;
      return {
        passes,
        count,
        prefix: inner.passes ? count : inner.prefix,
        suffix: inner.passes ? count : inner.suffix,
        best: Math.max(inner.best, across),
      };
    }
    case "alt": {
      const parts = node.branches.map((b) => chain(b, code));
      const passing = parts.filter((p) => p.passes);
      return {
        passes: passing.length > 0,
        count: Math.max(0, ...passing.map((p) => p.count)),
        prefix: Math.max(0, ...parts.map((p) => (p.passes ? p.count : p.prefix))),
        suffix: Math.max(0, ...parts.map((p) => (p.passes ? p.count : p.suffix))),
        best: Math.max(0, ...parts.map((p) => p.best)),
      };
    }
    case "seq": {
      let run = 0;
      let open = true;
      let prefix = 0;
      let best = 0;
      for (const item of node.items) {
        const part = chain(item, code);
        if (part.passes) {
          run += part.count;
          if (open) prefix = run;
        } else {
          best = Math.max(best, run + part.prefix);
          if (open) prefix = Math.max(prefix, run + part.prefix);
          run = part.suffix;
          open = false;
        }
        best = Math.max(best, part.best, run);
      }
      return { passes: open, count: open ? run : 0, prefix, suffix: run, best };
    }
  }
}

function flatten(node: Node): Node[] {
  return node.kind === "seq" ? node.items.flatMap(flatten) : [node];
}

function isFixed(node: Node): boolean {
  switch (node.kind) {
    case "char":
    case "empty":
      return true;
    case "seq":
      return node.items.every(isFixed);
    case "repeat":
      return node.min === node.max && isFixed(node.body);
    default:
      return false;
  }
}

function nullable(node: Node): boolean {
  switch (node.kind) {
    case "char":
      return false;
    case "seq":
      return node.items.every(nullable);
    case "alt":
      return node.branches.some(nullable);
    case "repeat":
      return node.min === 0 || nullable(node.body);
    default:
      return true;
  }
}

/** The characters a match of `node` can start with (everything, when it can match nothing). */
function first(node: Node): CharSet {
  switch (node.kind) {
    case "char":
      return node.set;
    case "seq": {
      const out = emptySet();
      for (const item of node.items) {
        addTo(out, first(item));
        if (!nullable(item)) return out;
      }
      return fullSet();
    }
    case "alt": {
      const out = emptySet();
      for (const branch of node.branches) addTo(out, first(branch));
      return out;
    }
    case "repeat":
      return node.min === 0 ? fullSet() : first(node.body);
    default:
      return fullSet();
  }
}
