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
  let tree: Node;
  const parser = new Parser(source, flags);
  try {
    tree = parser.parse();
  } catch {
    // Unparseable here, though it compiled: refuse rather than guess.
    return "the pattern uses syntax the backtracking check does not understand";
  }
  const nested = nestedRepetition(tree);
  if (nested) return nested;
  // `^a|b*b*b*x` is tried at every position all the same: anchored only when every branch is.
  const anchored = parser.anchored && !flags.includes("m");
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

/**
 * `<name>` after `\k`: a group name, possibly with `\u` escapes. Anything else after `\k` is
 * not a group reference (or the pattern would not have compiled).
 */
const GROUP_REFERENCE = /^<(?:[\p{ID_Continue}$\u200c\u200d]|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]+\})+>/u;

/**
 * A recursive-descent reader of the regular-expression syntax rules use. Without the `u`
 * (or `v`) flag, JavaScript reads some escapes the lenient way of its Annex B: `\p` is a
 * plain `p`, and `\k` a plain `k` unless the pattern has named groups. The reader must see
 * what the engine runs, or text it takes for an escape goes unchecked.
 */
class Parser {
  private pos = 0;
  private depth = 0;
  /** Every top-level branch starts with `^`. */
  anchored = true;
  private readonly ignoreCase: boolean;
  private readonly dotAll: boolean;
  /** `u` or `v`: escapes are strict, `\p{...}` is a property. */
  private readonly unicode: boolean;
  /** `\k<name>` is a group reference in a pattern with named groups, whatever the flags. */
  private readonly namedGroups: boolean;

  constructor(
    private readonly src: string,
    flags: string,
  ) {
    this.ignoreCase = flags.includes("i");
    this.dotAll = flags.includes("s");
    this.unicode = flags.includes("u") || flags.includes("v");
    // Over-inclusive (a `(?<` inside a class counts too): it only makes `\k<name>` a reference.
    this.namedGroups = /\(\?<(?![=!])/.test(src);
  }

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.src.length) throw new Error("unbalanced )");
    return node;
  }

  private alternation(): Node {
    const branches = [this.branch()];
    while (this.src[this.pos] === "|") {
      this.pos++;
      branches.push(this.branch());
    }
    return branches.length === 1 ? branches[0]! : { kind: "alt", branches };
  }

  private branch(): Node {
    if (this.depth === 0 && this.src[this.pos] !== "^") this.anchored = false;
    return this.sequence();
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== "|" && this.src[this.pos] !== ")") {
      const start = this.pos;
      items.push(this.quantified(this.atom()));
      // Every atom reads at least one character: anything else would read the pattern forever.
      if (this.pos <= start || this.pos > this.src.length) throw new Error("the reader lost its place");
    }
    return { kind: "seq", items };
  }

  private quantified(atom: Node): Node {
    const c = this.src[this.pos];
    let min: number;
    let max: number;
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const braces = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!braces) return atom;
      min = Number(braces[1]);
      max = braces[2] === undefined ? min : braces[3] ? Number(braces[3]) : Infinity;
      this.pos += braces[0].length - 1;
    } else return atom;
    this.pos++;
    if (this.src[this.pos] === "?") this.pos++;
    return this.quantified({ kind: "repeat", min, max, body: atom });
  }

  private atom(): Node {
    const c = this.src[this.pos++]!;
    switch (c) {
      case "(":
        return this.group();
      case "[":
        return { kind: "char", set: this.classSet() };
      case ".":
        return { kind: "char", set: setOf((code) => this.dotAll || (code !== 10 && code !== 13), true) };
      case "^":
      case "$":
        return { kind: "empty" };
      case "\\":
        return this.escape();
      default:
        return { kind: "char", set: this.literal(c.charCodeAt(0)) };
    }
  }

  private group(): Node {
    let lookaround = false;
    if (this.src[this.pos] === "?") {
      const rest = this.src.slice(this.pos);
      const prefix = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(rest);
      if (!prefix) throw new Error("unknown group");
      lookaround = /^\?(=|!|<=|<!)/.test(rest);
      this.pos += prefix[0].length;
    }
    this.depth++;
    const body = this.alternation();
    this.depth--;
    if (this.src[this.pos++] !== ")") throw new Error("unclosed group");
    // A lookaround consumes nothing; what it contains is still checked for nesting.
    return lookaround ? { kind: "repeat", min: 0, max: 0, body } : body;
  }

  private escape(): Node {
    const c = this.src[this.pos++];
    if (c === undefined) throw new Error("trailing backslash");
    if (/[1-9]/.test(c)) {
      while (/[\d]/.test(this.src[this.pos] ?? "")) this.pos++;
      return { kind: "backref" };
    }
    if (c === "k" && (this.unicode || this.namedGroups)) {
      const name = GROUP_REFERENCE.exec(this.src.slice(this.pos));
      if (!name) throw new Error("\\k without a group name");
      this.pos += name[0].length;
      return { kind: "backref" };
    }
    if (c === "b" || c === "B") return { kind: "empty" };
    return { kind: "char", set: this.escapeSet(c) };
  }

  private escapeSet(c: string): CharSet {
    switch (c) {
      case "w":
        // With `i` and `u`, \w also matches ſ and K (Kelvin), which fold onto s and k.
        return setOf(WORD, this.ignoreCase && this.unicode);
      case "W":
        return complement(setOf(WORD, false));
      case "d":
        return setOf(DIGIT, false);
      case "D":
        return complement(setOf(DIGIT, false));
      case "s":
        return setOf(SPACE, true);
      case "S":
        return complement(setOf(SPACE, false));
      case "p":
      case "P": {
        // A plain letter without `u`; with it, the pattern compiled, so `{Name=Value}` follows.
        if (!this.unicode) return this.literal(c.charCodeAt(0));
        const end = this.src[this.pos] === "{" ? this.src.indexOf("}", this.pos) : -1;
        if (end < 0) throw new Error("\\p without a property");
        this.pos = end + 1;
        return fullSet();
      }
      default:
        return this.literal(this.escapedCode(c));
    }
  }

  /** The code of the character an escape stands for, its `\` and `c` read. */
  private escapedCode(c: string, inClass = false): number {
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12 };
    if (Object.hasOwn(simple, c)) return simple[c]!;
    // Without `u`, `\012` is an octal escape (a newline), and so is `[\1]` (outside a class, `\1` is a reference).
    if (!this.unicode && (c === "0" || (inClass && /[1-7]/.test(c)))) return this.legacyOctal(c);
    if (c === "0") return 0;
    if (c === "x" || c === "u") {
      // `\u{...}` is a code point only with `u`; without it, a `u` and then a quantifier or text.
      const hex = c === "x" ? /^[0-9a-fA-F]{2}/ : this.unicode ? /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4})/ : /^[0-9a-fA-F]{4}/;
      const found = hex.exec(this.src.slice(this.pos));
      if (!found) return c.charCodeAt(0);
      this.pos += found[0].length;
      return parseInt(found[0].replace(/[{}]/g, ""), 16);
    }
    if (c === "c") {
      const letter = this.src[this.pos] ?? "";
      // `\cJ` is a control character; without `u`, so is `[\c1]` or `[\c_]`.
      if (/[A-Za-z]/.test(letter) || (inClass && !this.unicode && /[\d_]/.test(letter))) {
        this.pos++;
        return letter.charCodeAt(0) % 32;
      }
      // Otherwise (only possible without `u`) a backslash, and the `c` is read again as a letter.
      this.pos--;
      return 92;
    }
    return c.charCodeAt(0);
  }

  /** An octal escape as JavaScript reads it without `u`: up to three digits, at most \377. */
  private legacyOctal(first: string): number {
    let code = Number(first);
    let digits = 1;
    const most = first <= "3" ? 3 : 2;
    while (digits < most && /[0-7]/.test(this.src[this.pos] ?? "")) {
      code = code * 8 + Number(this.src[this.pos++]);
      digits++;
    }
    return code;
  }

  private literal(code: number): CharSet {
    const set = emptySet();
    if (code >= 128) set.other = true;
    else {
      set.ascii[code] = true;
      if (this.ignoreCase && code >= 65 && code <= 122 && /[a-z]/i.test(String.fromCharCode(code))) {
        set.ascii[String.fromCharCode(code).toLowerCase().charCodeAt(0)] = true;
        set.ascii[String.fromCharCode(code).toUpperCase().charCodeAt(0)] = true;
        // Case-insensitive matching folds a few non-ASCII letters onto ASCII ones (K, ſ).
        set.other = true;
      }
    }
    return set;
  }

  private classSet(): CharSet {
    const negated = this.src[this.pos] === "^";
    if (negated) this.pos++;
    const set = emptySet();
    let previous: number | undefined;
    // A property is taken as every character: its complement would then be too small.
    let approximate = false;
    let start = -1;
    while (this.pos < this.src.length && this.src[this.pos] !== "]") {
      if (this.pos <= start) throw new Error("the reader lost its place");
      start = this.pos;
      const c = this.src[this.pos++]!;
      if (c === "-" && previous !== undefined && this.src[this.pos] !== "]") {
        const endChar = this.src[this.pos++]!;
        const end = endChar === "\\" ? this.escapedCode(this.src[this.pos++] ?? "", true) : endChar.charCodeAt(0);
        // Every code past ASCII is one "other" flag: a range up to U+10FFFF needs no million steps.
        for (let code = previous; code <= Math.min(end, 128); code++) addTo(set, this.literal(code));
        previous = undefined;
        continue;
      }
      if (c === "\\") {
        const e = this.src[this.pos++] ?? "";
        if (e !== "" && "wWdDsSpP".includes(e)) {
          if ((e === "p" || e === "P") && this.unicode) approximate = true;
          addTo(set, this.escapeSet(e));
          previous = undefined;
        } else {
          previous = e === "b" ? 8 : this.escapedCode(e, true);
          addTo(set, this.literal(Math.min(previous, 128)));
        }
        continue;
      }
      previous = c.charCodeAt(0);
      addTo(set, this.literal(Math.min(previous, 128)));
    }
    if (this.src[this.pos++] !== "]") throw new Error("unclosed class");
    if (!negated) return set;
    return approximate ? fullSet() : complement(set);
  }
}
