/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { checkSync } from "recheck/lib/browser.js";
import { describe, expect, it } from "vitest";
import devVarsExample from "../../dev/local.dev.vars?raw";
import { MAX_BACKTRACKING_DEGREE } from "../../src/config/backtracking";
import { compileRules } from "../helpers/fakes";
import { patternError } from "../../src/config/pattern";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { auditPattern, MAX_DEGREE, rulePatterns, splitPattern } from "../../scripts/pattern-audit.mjs";
import { hostilePattern } from "../helpers/arbitraries";

/**
 * The full pattern checker (recheck, as `npm run check:patterns` runs it) against the rules
 * the relay ships and against the Worker's own structural check: whatever the structural
 * check lets through, the full checker must judge safe. recheck's fuzzing takes seconds on
 * some patterns, hence the generous timeouts and the few generated runs.
 */
const TIMEOUT_MS = 600_000;

/** Each pattern is checked once per run, however many tests ask (the shipped title is in three). */
const audits = new Map<string, Promise<{ problem: string | undefined }>>();
function audit(pattern: string) {
  let found = audits.get(pattern);
  // Only the verdict is kept: diagnostics carry attack strings of thousands of characters.
  if (!found) audits.set(pattern, (found = auditPattern(checkSync, pattern).then(({ problem }) => ({ problem }))));
  return found;
}

/** The RULES line of dev/local.dev.vars, as `npm start` copies it to .dev.vars. */
const exampleRules = /^RULES='(.*)'$/m.exec(devVarsExample)?.[1];

const SHIPPED: Array<[string, unknown]> = [
  ["wrangler.jsonc", env.RULES],
  ["dev/local.dev.vars", exampleRules],
];

/** Patterns the structural check accepts, as operators write them: the full checker must agree. */
const ACCEPTED = [
  "/(packet loss|dropping packets)(?:.*?(?<user_email>[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+))?/i",
  "/packet loss.*?(?<user_email>[\\w.+-]+@[\\w.-]+)/i",
  "packet loss",
  "/vpn/i",
  "/for (?<user_email>\\S+@\\S+) on (?<hostname>[\\w-]+)/i",
  "(?:\\.[\\w-]+)+$",
  "(\\d+\\.){3}\\d+",
  "(?:cat|dog)+",
  "/^[a-z]+-\\d+$/i",
  "(?<hostname>[A-Z0-9-]+)\\.corp\\.example\\.com",
  "/\\p{L}+\\s\\u00e9/u",
  "/^(critical|error)$/",
  "/latency|packet loss|jitter/i",
  "host=(?<hostname>\\S+)",
  "^(?<hostname>[\\w-]+)(?:\\.[\\w-]+)*$",
  "\\d+\\d+x",
];

/** Patterns the structural check refuses, which the full checker must find unsafe too. */
const REFUSED = ["/^(\\w+\\s?)*$/", "(a+)+$", "(a|a)*$", "(\\w|\\d)+x", "\\w*\\w*\\w*x", "(.*,)*x"];

describe("the full pattern checker", () => {
  it("holds patterns to the structural check's degree", () => {
    expect(MAX_DEGREE).toBe(MAX_BACKTRACKING_DEGREE);
  });

  it.each(SHIPPED)("finds every pattern the Worker compiles from the RULES of %s", (_, rules) => {
    const compiled = compileRules(rules, SOURCE_NAMES).flatMap((rule, i) => [
      ...(rule.title ? [[`RULES[${i}].match.title`, rule.title] as const] : []),
      ...rule.labels.flatMap(({ key, value }) => (value instanceof RegExp ? [[`RULES[${i}].match.labels.${key}`, value] as const] : [])),
    ]);
    const found = rulePatterns(rules);
    expect(found.map((p) => p.path)).toEqual(compiled.map(([path]) => path));
    found.forEach(({ pattern }, i) => expect(splitPattern(pattern)).toEqual({ source: compiled[i]![1].source, flags: compiled[i]![1].flags }));
    expect(found.length).toBeGreaterThan(0);
  });

  it.each(SHIPPED)(
    "judges every pattern of the RULES of %s safe",
    async (_, rules) => {
      for (const { path, pattern } of rulePatterns(rules)) {
        const { problem } = await audit(pattern);
        expect(problem, `${path}: ${pattern}`).toBeUndefined();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "judges safe every pattern of a corpus the structural check accepts",
    async () => {
      for (const pattern of ACCEPTED) {
        expect(patternError(pattern), pattern).toBeUndefined();
        const { problem } = await audit(pattern);
        expect(problem, pattern).toBeUndefined();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "finds unsafe what the structural check refuses for backtracking",
    async () => {
      for (const pattern of REFUSED) {
        expect(patternError(pattern), pattern).toMatch(/may backtrack catastrophically/);
        const { problem } = await audit(pattern);
        expect(problem, pattern).toMatch(/exponential|degree polynomial/);
      }
    },
    TIMEOUT_MS,
  );

  it(
    "judges safe the generated hostile patterns the structural check accepts",
    async () => {
      const accepted = hostilePattern.filter((pattern) => patternError(pattern) === undefined);
      await fc.assert(
        fc.asyncProperty(accepted, async (pattern) => {
          const { problem } = await audit(pattern);
          expect(problem, pattern).toBeUndefined();
        }),
        { numRuns: 25 },
      );
    },
    TIMEOUT_MS,
  );
});
