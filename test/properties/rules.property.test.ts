import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadRules, type CompiledRule } from "../../src/config/load-rules";
import { isSlashedPattern } from "../../src/config/pattern";
import { matchRules } from "../../src/match/match-rules";
import { SEVERITIES, TARGET_FIELDS, type NormalizedAlert } from "../../src/model/alert";
import { ON_DEMAND_SOURCE } from "../../src/model/alert";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { awkwardText, mutations, mutateJson, PROTOTYPE_KEYS } from "../helpers/arbitraries";

/**
 * `loadRules` over whatever an operator might put in `RULES`: arbitrary JSON, random
 * strings, the shipped rules with random mutations, and plausible rules built from random
 * regular expressions. It never throws; a refusal names the path of what is wrong; an
 * accepted configuration is fully compiled, and matching any alert against it never throws.
 */
const RUNS = 400;
const TIMEOUT_MS = 60_000;
// A new seed every run, as in the other property files; a failure reports its seed and path
// for fast-check to replay. Seed 20261125 once ran workerd out of heap: not while matching, but
// while drawing the accepted rules, when loadRules met the title `\packet loss+?` and the
// backtracking check read the pattern forever (src/config/backtracking.test.ts keeps the case).
const params = { numRuns: RUNS };

/** A refusal starts with the path of the problem: `RULES[2].match.title: ...`, `RULES: ...`. */
const REFUSAL = /^RULES(?:\[\d+\]|: | is not set$)/;

// ---------- regular expressions, as people write them ----------

const regexToken = fc.constantFrom(
  "a",
  "b",
  "x",
  "0",
  " ",
  ".",
  "*",
  "+",
  "?",
  "*?",
  "{2}",
  "{1,3}",
  "{,",
  "|",
  "^",
  "$",
  "\\",
  "\\d",
  "\\w",
  "\\s",
  "\\b",
  "(",
  ")",
  "[",
  "]",
  "[^a-z]",
  "[a-",
  "(?:",
  "(?=",
  "(?!",
  "(?<=",
  "(?<!",
  "\\1",
  "\\k<hostname>",
  "(?<user_email>",
  "(?<hostname>",
  "(?<device_id>",
  "(?<registration_id>",
  "(?<nope>",
  "(?<1bad>",
  "\\p{L}",
  "\\u{1F600}",
  "@",
  "-",
  "/",
  "packet loss",
  "[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+",
);
const regexSource = fc.array(regexToken, { maxLength: 10 }).map((t) => t.join(""));
const flags = fc.subarray(["d", "g", "i", "m", "s", "u", "v", "y", "x"]).map((f) => f.join(""));
const pattern = fc.oneof(
  regexSource,
  fc.tuple(regexSource, flags).map(([s, f]) => `/${s}/${f}`),
  awkwardText(12),
);

// ---------- rules, plausible and not ----------

const labelKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, "check", "service", "severity", ""), fc.string({ maxLength: 8 }));
const labelValue = fc.oneof(fc.string({ maxLength: 12 }), pattern);
// Each field is mostly valid, so that whole rules are accepted often enough to test the accepting side.
const sourceField = fc.oneof(
  { arbitrary: fc.constantFrom(...SOURCE_NAMES), weight: 4 },
  { arbitrary: fc.subarray([...SOURCE_NAMES], { minLength: 1 }), weight: 4 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  { arbitrary: fc.array(fc.oneof(fc.constantFrom(...SOURCE_NAMES), fc.string({ maxLength: 6 })), { maxLength: 3 }), weight: 1 },
);
const severityField = fc.oneof(
  { arbitrary: fc.subarray([...SEVERITIES], { minLength: 1 }), weight: 8 },
  { arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom("critical", []), weight: 1 },
);
const match = fc
  .record(
    {
      source: sourceField,
      severity: severityField,
      labels: fc.array(fc.tuple(labelKey, labelValue), { maxLength: 3 }).map((entries) => ownEntries(entries)),
      title: pattern,
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...rest }) => (extra === undefined || rest.title === undefined ? rest : { ...rest, extra }));
const validCommand = fc.oneof(
  fc.record(
    { type: fc.constant("pcap"), args: fc.constantFrom({ "time-limit-min": 2, "max-file-size-mb": 10 }, {}, { "packet-size-bytes": 1500 }) },
    { requiredKeys: ["type"] },
  ),
  fc.record({ type: fc.constant("warp-diag"), args: fc.constantFrom({ "test-all-routes": true }, {}) }, { requiredKeys: ["type"] }),
  fc.record(
    { type: fc.constant("speed-test"), args: fc.constantFrom({ interfaces: ["default", "tunnel"] }, { interfaces: ["tunnel"] }) },
    { requiredKeys: ["type"] },
  ),
);
const command = fc.oneof(
  { arbitrary: validCommand, weight: 8 },
  { arbitrary: fc.record({ type: fc.constantFrom("pcap", "warp-diag", "speed-test", "traceroute"), args: fc.jsonValue({ maxDepth: 2 }) }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
);
const ruleName = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/), weight: 8 },
  { arbitrary: fc.string({ maxLength: 70 }), weight: 1 },
  { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS), weight: 1 },
);
const rule = fc.record(
  {
    name: ruleName,
    match,
    command,
    cooldown_minutes: fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 10_080 }), weight: 4 },
      fc.integer({ min: -5, max: 20_000 }),
      fc.double(),
      fc.string({ maxLength: 4 }),
    ),
    max_devices: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 10 }), weight: 4 }, fc.integer({ min: -1, max: 12 }), fc.double()),
  },
  { requiredKeys: ["name", "command"] },
);
const rules = fc.oneof(fc.array(rule, { maxLength: 5 }), fc.uniqueArray(rule, { maxLength: 5, selector: (r) => r.name }));

/** The rules wrangler.jsonc ships, each with random mutations. */
const mutatedShippedRules = mutations.map((applied) => mutateJson(env.RULES, applied));

/** Every kind of value `RULES` might hold, as an array of tables or as a JSON string. */
const rawRules = fc.oneof(
  { arbitrary: rules, weight: 4 },
  { arbitrary: rules.map((r) => JSON.stringify(r)), weight: 2 },
  { arbitrary: mutatedShippedRules, weight: 4 },
  { arbitrary: mutatedShippedRules.map((r) => JSON.stringify(r) ?? ""), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 1 },
  { arbitrary: awkwardText(40), weight: 1 },
  {
    arbitrary: fc.anything({
      maxDepth: 2,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withDate: true,
      withSparseArray: true,
    }),
    weight: 1,
  },
);

// ---------- alerts to match ----------

/** Labels built the way the adapters build them (`Object.fromEntries`), so `__proto__` is an own key. */
const labels = fc
  .array(
    fc.tuple(fc.oneof(labelKey, fc.constantFrom("check", "service")), fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom("bandwidth", "Corporate VPN"))),
    { maxLength: 5 },
  )
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);
const target = fc.record(
  Object.fromEntries(TARGET_FIELDS.map((f) => [f, fc.string({ maxLength: 16 })])) as Record<(typeof TARGET_FIELDS)[number], fc.Arbitrary<string>>,
  {
    requiredKeys: [],
  },
);
const alert: fc.Arbitrary<NormalizedAlert> = fc.record(
  {
    source: fc.oneof(fc.constantFrom(...SOURCE_NAMES), fc.string({ maxLength: 8 })),
    episode: fc.string({ maxLength: 16 }),
    // Short, so a pattern with nested quantifiers cannot backtrack for long.
    title: fc.oneof(awkwardText(20), fc.constantFrom("VPN packet loss for jane.doe@example.com", "dropping packets on LT-0442")),
    severity: fc.constantFrom(...SEVERITIES),
    firing: fc.boolean(),
    status: fc.string({ maxLength: 8 }),
    labels,
    target,
  },
  { requiredKeys: ["source", "episode", "title", "firing", "status", "labels", "target"] },
);

function ownEntries(entries: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** What a rule as written says, to compare with what was compiled. */
function inputRules(raw: unknown): any[] {
  return typeof raw === "string" ? JSON.parse(raw) : (raw as any[]);
}

function expectCompiled(compiled: CompiledRule[], raw: unknown): void {
  const written = inputRules(raw);
  expect(compiled).toHaveLength(written.length);
  compiled.forEach((rule, i) => {
    const source = written[i].match?.title;
    if (source === undefined) expect(rule.title).toBeUndefined();
    else {
      expect(rule.title).toBeInstanceOf(RegExp);
      // `g` and `y` would make a pattern stateful across alerts.
      expect(rule.title!.global || rule.title!.sticky).toBe(false);
    }
    for (const { key, value } of rule.labels) {
      const as = written[i].match.labels[key];
      if (isSlashedPattern(as)) {
        expect(value).toBeInstanceOf(RegExp);
        expect((value as RegExp).global || (value as RegExp).sticky).toBe(false);
      } else expect(value).toBe(as);
    }
    // A source is one of the registry's, or `operator`: the rule may be asked for on demand.
    if (rule.sources) for (const s of rule.sources) expect([...SOURCE_NAMES, ON_DEMAND_SOURCE]).toContain(s);
  });
}

describe("loadRules under random configurations", () => {
  it(
    "never throws; refuses with the path of the problem, or compiles every pattern",
    () => {
      let accepted = 0;
      fc.assert(
        fc.property(rawRules, (raw) => {
          const result = loadRules(raw, SOURCE_NAMES);
          if (!result.ok) {
            expect(result.error).toMatch(REFUSAL);
            return;
          }
          accepted++;
          expectCompiled(result.rules, raw);
        }),
        params,
      );
      // The generators must reach the accepting side too, or the property says little.
      expect(accepted).toBeGreaterThan(RUNS / 20);
    },
    TIMEOUT_MS,
  );

  it(
    "matching any alert against accepted rules never throws, and only yields those rules",
    () => {
      const accepted = rules.map((r) => loadRules(r, SOURCE_NAMES)).filter((r) => r.ok);
      fc.assert(
        fc.property(fc.oneof(accepted, fc.constant(loadRules(env.RULES, SOURCE_NAMES))), fc.array(alert, { minLength: 1, maxLength: 3 }), (loaded, alerts) => {
          if (!loaded.ok) throw new Error(`the shipped RULES do not load: ${loaded.error}`);
          for (const a of alerts) {
            const matches = matchRules(a, loaded.rules);
            for (const m of matches) {
              expect(loaded.rules).toContain(m.rule);
              for (const value of Object.values(m.target)) expect(typeof value).toBe("string");
            }
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );

  it(
    "keeps every label condition it accepts: none is dropped on the way to the compiled rule",
    () => {
      const conditions = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.stringMatching(/^[a-z_]{1,8}$/)), labelValue), { maxLength: 4 });
      fc.assert(
        fc.property(conditions, (entries) => {
          const labels = ownEntries(entries);
          const result = loadRules([{ name: "by-label", match: { labels }, command: { type: "warp-diag" } }], SOURCE_NAMES);
          if (!result.ok) return;
          const kept = result.rules[0]!.labels.map((l) => l.key).sort();
          expect(kept, `labels ${JSON.stringify(Object.keys(labels))}`).toEqual(Object.keys(labels).sort());
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );

  it(
    "holds a label condition only for an alert that has that label",
    () => {
      const withLabelCondition = fc.tuple(labelKey, fc.constantFrom("/./", "/.*/", "/function/", "/object/i")).map(([key, value]) => ({
        key,
        loaded: loadRules([{ name: "by-label", match: { labels: ownEntries([[key, value]]) }, command: { type: "warp-diag" } }], SOURCE_NAMES),
      }));
      fc.assert(
        fc.property(withLabelCondition, alert, ({ key, loaded }, a) => {
          if (!loaded.ok) return;
          const matched = matchRules(a, loaded.rules).length > 0;
          if (matched) expect(Object.hasOwn(a.labels, key), `label "${key}" matched on ${JSON.stringify(a.labels)}`).toBe(true);
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});

/** Counterexamples the properties found, kept as plain examples. */
describe("regressions found by the properties", () => {
  const warpDiag = { type: "warp-diag" };
  const alertWithout = (labels: Record<string, string>): NormalizedAlert => ({
    source: "zapier",
    episode: "zapier:1",
    title: "printer jam",
    firing: true,
    status: "firing",
    labels,
    target: {},
  });

  it.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "a rule on label %s does not match an alert without that label (Object.prototype is no label)",
    (key) => {
      const loaded = loadRules([{ name: "by-label", match: { labels: { [key]: "/./" } }, command: warpDiag }], SOURCE_NAMES);
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      expect(matchRules(alertWithout({ check: "bandwidth" }), loaded.rules)).toEqual([]);
    },
  );

  it("does not silently drop a label condition named __proto__", () => {
    const raw = '[{"name":"by-label","match":{"labels":{"__proto__":"never-sent"}},"command":{"type":"warp-diag"}}]';
    const loaded = loadRules(raw, SOURCE_NAMES);
    // Refusing the key, or keeping the condition, are both fine; matching every alert is not.
    if (loaded.ok) expect(matchRules(alertWithout({}), loaded.rules)).toEqual([]);
    else expect(loaded.error).toMatch(REFUSAL);
  });
});
