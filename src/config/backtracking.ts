import { RegExpParser, type AST } from "@eslint-community/regexpp";

/**
 * A structural check for rule patterns that could make the regular-expression engine
 * backtrack for seconds or forever on a crafted title. It is conservative: it may refuse a
 * pattern that is in fact safe, never the other way round for the shapes it knows (nested
 * and overlapping repetition). A fuller checker (`npm run check` and `npm run check:patterns`, scripts/pattern-audit.mjs)
 * also measures polynomial cases; this one runs in the Worker every time `RULES` is loaded.
 */

/** Highest number of repetitions one run of the same character may be split across. */
export const MAX_BACKTRACKING_DEGREE = 3;

/** Characters a one-character atom can match: ASCII as bits, anything else as one flag. */
interface CharSet {
  ascii: boolean[];
  other: boolean;
}

type Node =
  | { kind: "char"; set: CharSet }
  | { kind: "empty" }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; branches: Node[] }
  | { kind: "repeat"; min: number; max: number; body: Node }
  /** A back-reference: it repeats text whose shape the pattern does not fix. */
  | { kind: "backref" };

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

function emptySet(): CharSet {
  return { ascii: new Array<boolean>(128).fill(false), other: false };
}

function fullSet(): CharSet {
  return { ascii: new Array<boolean>(128).fill(true), other: true };
}

function addTo(target: CharSet, set: CharSet): void {
  for (let i = 0; i < 128; i++) if (set.ascii[i]) target.ascii[i] = true;
  if (set.other) target.other = true;
}

function overlaps(a: CharSet, b: CharSet): boolean {
  if (a.other && b.other) return true;
  return a.ascii.some((bit, i) => bit && b.ascii[i]);
}

function matches(set: CharSet, code: number): boolean {
  return code >= 128 ? set.other : !!set.ascii[code];
}

const WORD = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const DIGIT = (c: number) => c >= 48 && c <= 57;
const SPACE = (c: number) => c === 32 || (c >= 9 && c <= 13);

function setOf(test: (code: number) => boolean, other: boolean): CharSet {
  const set = emptySet();
  for (let i = 0; i < 128; i++) set.ascii[i] = test(i);
  set.other = other;
  return set;
}

function complement(set: CharSet): CharSet {
  // Anything outside ASCII stays possible: the check only ever errs towards refusing.
  return { ascii: set.ascii.map((bit) => !bit), other: true };
}

/** The flags that change what an atom matches; a group's `(?i:...)` or `(?-s:...)` changes them inside it. */
interface Mode {
  ignoreCase: boolean;
  dotAll: boolean;
  unicode: boolean;
}

/*
 * What follows turns regexpp's syntax tree into the nodes the checks above read. regexpp
 * reads a pattern as the engine does, Annex B included: without `u`, `\p` is a plain `p`,
 * `\k` a plain `k` unless the pattern has named groups, `\012` an octal escape.
 */

function alternation(branches: AST.Alternative[], mode: Mode): Node {
  const nodes = branches.map((branch): Node => ({ kind: "seq", items: branch.elements.map((element) => toNode(element, mode)) }));
  return nodes.length === 1 ? nodes[0]! : { kind: "alt", branches: nodes };
}

function toNode(element: AST.Element, mode: Mode): Node {
  switch (element.type) {
    case "Quantifier":
      return { kind: "repeat", min: element.min, max: element.max, body: toNode(element.element, mode) };
    case "CapturingGroup":
      return alternation(element.alternatives, mode);
    case "Group":
      return alternation(element.alternatives, element.modifiers ? modified(mode, element.modifiers) : mode);
    case "Assertion":
      // A lookaround consumes nothing; what it contains is still checked for nesting.
      if (element.kind === "lookahead" || element.kind === "lookbehind")
        return { kind: "repeat", min: 0, max: 0, body: alternation(element.alternatives, mode) };
      return { kind: "empty" };
    case "Backreference":
      return { kind: "backref" };
    case "Character":
      return { kind: "char", set: literal(element.value, mode) };
    case "CharacterSet":
      return { kind: "char", set: characterSet(element, mode) };
    case "CharacterClass":
      return { kind: "char", set: characterClass(element, mode) };
    case "ExpressionCharacterClass":
      // Only with the `v` flag, which is refused before parsing.
      throw new Error("class expressions are not read");
  }
}

function modified(mode: Mode, { add, remove }: AST.Modifiers): Mode {
  return {
    ...mode,
    ignoreCase: add.ignoreCase || (mode.ignoreCase && !remove?.ignoreCase),
    dotAll: add.dotAll || (mode.dotAll && !remove?.dotAll),
  };
}

function isStart(element: AST.Element | undefined): boolean {
  return element?.type === "Assertion" && element.kind === "start";
}

function characterSet(set: AST.CharacterSet, mode: Mode): CharSet {
  switch (set.kind) {
    case "any":
      return setOf((code) => mode.dotAll || (code !== 10 && code !== 13), true);
    case "property":
      return fullSet();
    case "digit":
      return set.negate ? complement(setOf(DIGIT, false)) : setOf(DIGIT, false);
    case "space":
      return set.negate ? complement(setOf(SPACE, false)) : setOf(SPACE, true);
    case "word":
      // With `i` and `u`, \w also matches ſ and K (Kelvin), which fold onto s and k.
      return set.negate ? complement(setOf(WORD, false)) : setOf(WORD, mode.ignoreCase && mode.unicode);
  }
}

function characterClass(node: AST.CharacterClass, mode: Mode): CharSet {
  const set = emptySet();
  // A property is taken as every character: its complement would then be too small.
  let approximate = false;
  for (const element of node.elements) {
    if (element.type === "Character") addTo(set, literal(element.value, mode));
    else if (element.type === "CharacterClassRange") {
      // Every code past ASCII is one "other" flag: a range up to U+10FFFF needs no million steps.
      for (let code = Math.min(element.min.value, 128); code <= Math.min(element.max.value, 128); code++) addTo(set, literal(code, mode));
    } else if (element.type === "CharacterSet") {
      if (element.kind === "property") approximate = true;
      addTo(set, characterSet(element, mode));
    } else throw new Error("classes of the v flag are not read");
  }
  if (!node.negate) return set;
  return approximate ? fullSet() : complement(set);
}

function literal(code: number, mode: Mode): CharSet {
  const set = emptySet();
  if (code >= 128) set.other = true;
  else {
    set.ascii[code] = true;
    const char = String.fromCharCode(code);
    if (mode.ignoreCase && /[a-z]/i.test(char)) {
      set.ascii[char.toLowerCase().charCodeAt(0)] = true;
      set.ascii[char.toUpperCase().charCodeAt(0)] = true;
      // Case-insensitive matching folds a few non-ASCII letters onto ASCII ones (K, ſ).
      set.other = true;
    }
  }
  return set;
}
