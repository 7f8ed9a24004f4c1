import fc from "fast-check";

/**
 * fast-check arbitraries shared by the property tests: mutations of real payloads and
 * configurations, and the awkward values senders and operators actually produce.
 */

/** Keys that reach `Object.prototype` when code copies objects carelessly. */
export const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"] as const;

/** Text that trips up naive string handling: every Unicode plane, lone surrogates, controls, RTL, zero-width. */
export const awkwardText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.constantFrom(
      "",
      " ",
      "\u0000",
      "\u202e",
      "\u200b",
      "\ud800",
      "\udfff",
      "💥",
      "🇮🇹",
      "null",
      "true",
      "0",
      "-1",
      "1e309",
      "%00",
      "../../",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder, as hostile text, on purpose.
      "${x}",
      "</script>",
    ),
  );

const mutationOps = ["drop", "replace", "retype", "huge", "unicode", "pollute", "empty"] as const;

export interface Mutation {
  op: (typeof mutationOps)[number];
  /** Which container of the document (by index, wrapping), and which of its entries. */
  at: number;
  entry: number;
  value: unknown;
  text: string;
  size: number;
  key: string;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom(...mutationOps),
  at: fc.nat(),
  entry: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  text: awkwardText(),
  // Large enough to hit length limits, small enough to stay under the 1 MiB body limit.
  size: fc.integer({ min: 200, max: 140_000 }),
  key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 12 })),
});

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

type Container = Record<string, unknown> | unknown[];

function containers(value: unknown, out: Container[] = []): Container[] {
  if (value !== null && typeof value === "object") {
    out.push(value as Container);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

/** Sets an own, enumerable property even for `__proto__`, which plain assignment would not. */
function setOwn(target: Container, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function retype(value: unknown): unknown {
  if (typeof value === "string") return Number.isNaN(Number(value)) ? value.length : Number(value);
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : 0;
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (value && typeof value === "object") return Object.values(value);
  return value === null ? {} : null;
}

/** `document` (parsed JSON, left untouched) with each mutation applied in turn. */
export function mutateJson(document: unknown, applied: readonly Mutation[]): unknown {
  const root: { doc: unknown } = { doc: structuredClone(document) };
  for (const m of applied) {
    const all = containers(root);
    const target = all[m.at % all.length]!;
    const keys = Object.keys(target);
    const key = keys.length ? keys[m.entry % keys.length]! : Array.isArray(target) ? 0 : "field";
    const current = (target as Record<string, unknown>)[key];
    switch (m.op) {
      case "drop":
        if (target === root) break;
        if (Array.isArray(target)) target.splice(Number(key), 1);
        else delete target[key];
        break;
      case "replace":
        setOwn(target, key, m.value);
        break;
      case "retype":
        setOwn(target, key, retype(current));
        break;
      case "huge":
        setOwn(target, key, (m.text || "x").repeat(Math.ceil(m.size / Math.max(1, m.text.length))).slice(0, m.size));
        break;
      case "unicode":
        setOwn(target, key, m.text);
        break;
      case "pollute":
        if (target === root) break;
        setOwn(target, Array.isArray(target) ? target.length : m.key, m.value);
        break;
      case "empty":
        setOwn(target, key, Array.isArray(current) ? [] : current && typeof current === "object" ? {} : "");
        break;
    }
  }
  return root.doc;
}

/** A form body with each mutation applied to its fields. */
export function mutateForm(body: string, applied: readonly Mutation[]): string {
  const fields = [...new URLSearchParams(body)];
  for (const m of applied) {
    const i = fields.length ? m.entry % fields.length : 0;
    const name = fields[i]?.[0] ?? "field";
    switch (m.op) {
      case "drop":
        fields.splice(i, 1);
        break;
      case "replace":
        fields[i] = [name, typeof m.value === "string" ? m.value : JSON.stringify(m.value)];
        break;
      case "retype":
      case "empty":
        fields[i] = [name, ""];
        break;
      case "huge":
        fields[i] = [name, (m.text || "x").repeat(Math.ceil(m.size / Math.max(1, m.text.length))).slice(0, m.size)];
        break;
      case "unicode":
        fields[i] = [name, m.text];
        break;
      case "pollute":
        fields.push([m.key, m.text], [name, m.text]);
        break;
    }
  }
  return new URLSearchParams(fields).toString();
}

// ---------- rule patterns an operator might write, safe and not ----------

/** Atoms that overlap with each other in every way: letters, digits, word and space classes, anything. */
const patternAtom = fc.constantFrom("a", "b", "x", "0", "@", ".", "-", " ", "\\w", "\\d", "\\s", "\\S", ".", "[a-z]", "[\\w.-]", "[^@]", "[^\\s]");
const quantifier = fc.constantFrom("*", "+", "?", "*?", "+?", "{2}", "{1,3}", "{2,}");

/**
 * Regular expressions built to backtrack: repetitions nested in repetitions, alternatives
 * that overlap under a star, runs of quantified classes that can share one character, named
 * groups as rules use them, anchored or not. Plenty of them are refused; the rest must be
 * safe to run.
 */
export const hostilePattern: fc.Arbitrary<string> = fc
  .letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { arbitrary: patternAtom, weight: 4 },
      { arbitrary: fc.tuple(tie("node"), quantifier).map(([n, q]) => `(?:${n})${q}`), weight: 3 },
      { arbitrary: fc.tuple(patternAtom, quantifier).map(([a, q]) => `${a}${q}`), weight: 3 },
      { arbitrary: fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((ns) => ns.join("")), weight: 3 },
      { arbitrary: fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((ns) => `(?:${ns.join("|")})`), weight: 2 },
      { arbitrary: tie("node").map((n) => `(?<hostname>${n})`), weight: 1 },
    ),
  }))
  .node.chain((body) =>
    fc
      .tuple(fc.boolean(), fc.boolean(), fc.constantFrom("", "i", "s", "u"))
      .map(([start, end, flags]) => `/${start ? "^" : ""}${body}${end ? "$" : ""}/${flags}`),
  );

/**
 * Long strings built to make a pattern over {@link hostilePattern}'s atoms backtrack: a long
 * run of one character the atoms share, or of a short cycle of them, then a character that
 * makes the match fail at the end.
 */
export const adversarialText = (length: number) =>
  fc
    .tuple(fc.constantFrom("a", "0", " ", "@", ".", "-", "a@", "a.", "0 ", "ab", "a-b.", "é", "😀"), fc.constantFrom("", "!", "\n", "@", "\u0000"))
    .map(([cycle, end]) => cycle.repeat(Math.ceil(length / cycle.length)).slice(0, length - end.length) + end);
