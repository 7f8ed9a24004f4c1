#!/usr/bin/env node
/**
 * `npm run check:patterns`: the full backtracking check of every rule pattern the relay is
 * configured with — wrangler.jsonc's `vars.RULES`, and the RULES of .dev.vars and
 * dev/local.dev.vars when they exist. Exits 1 naming the rule path of each unsafe pattern,
 * 2 when a configuration cannot be read. Runs offline.
 *
 * Usage: node scripts/check-patterns.mjs [--config wrangler.jsonc] [--vars .dev.vars …]
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv, parseArgs } from "node:util";
import { check } from "recheck";
import { unstable_readConfig } from "wrangler";
import { auditPattern, rulePatterns } from "./pattern-audit.mjs";

const { values } = parseArgs({
  options: { config: { type: "string", default: "wrangler.jsonc" }, vars: { type: "string", multiple: true } },
});
const varsFiles = values.vars ?? [".dev.vars", "dev/local.dev.vars"].filter((file) => existsSync(file));

/** Where RULES is configured: [file, the RULES value]. */
function configuredRules() {
  const found = [];
  const config = unstable_readConfig({ config: values.config });
  if (config.vars?.RULES !== undefined) found.push([values.config, config.vars.RULES]);
  for (const file of varsFiles) {
    const rules = parseEnv(readFileSync(file, "utf8")).RULES;
    if (rules !== undefined) found.push([file, rules]);
  }
  return found;
}

let unsafe = 0;
let checked = 0;
try {
  for (const [file, rules] of configuredRules()) {
    for (const { path, pattern } of rulePatterns(rules)) {
      const { problem } = await auditPattern(check, pattern);
      checked++;
      if (problem) {
        unsafe++;
        console.error(`${file}: ${path}: ${problem}\n  pattern: ${pattern}`);
      }
    }
  }
} catch (error) {
  console.error(`check:patterns: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
if (unsafe > 0) {
  console.error(`${unsafe} of ${checked} rule patterns may backtrack catastrophically`);
  process.exit(1);
}
console.log(`${checked} rule patterns checked: none backtracks catastrophically`);
