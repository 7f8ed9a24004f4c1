import type { AST } from "@eslint-community/regexpp";
import { addTo, complement, DIGIT, emptySet, fullSet, setOf, SPACE, WORD, type CharSet } from "./char-set";

/** A pattern as the backtracking check (./backtracking.ts) reads it: what each part can match, and how often. */
export type Node =
  | { kind: "char"; set: CharSet }
  | { kind: "empty" }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; branches: Node[] }
  | { kind: "repeat"; min: number; max: number; body: Node }
  /** A back-reference: it repeats text whose shape the pattern does not fix. */
  | { kind: "backref" };

/** The flags that change what an atom matches; a group's `(?i:...)` or `(?-s:...)` changes them inside it. */
export interface Mode {
  ignoreCase: boolean;
  dotAll: boolean;
  unicode: boolean;
}

/**
 * Turns regexpp's syntax tree into the nodes the backtracking check reads. regexpp reads a
 * pattern as the engine does, Annex B included: without `u`, `\p` is a plain `p`, `\k` a
 * plain `k` unless the pattern has named groups, `\012` an octal escape.
 */
export function alternation(branches: AST.Alternative[], mode: Mode): Node {
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

export function isStart(element: AST.Element | undefined): boolean {
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
