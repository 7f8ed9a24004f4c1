// `npm run check`: is the configuration one that can work, before the first alert arrives?
// `node scripts/check.mjs` checks what `wrangler deploy` would ship (wrangler.jsonc; secrets
// live in Cloudflare and are not checked); `--local` checks what `npm start` runs
// (wrangler.jsonc with .dev.vars, or dev/local.dev.vars, over it). Prints every problem and
// exits 1 when there is one. Each check is one function returning a list of problems.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseEnv } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const PLACEHOLDER_PREFIX = "replace-with-";
/** Secrets are set in Cloudflare, out of reach here: a deploy check treats them as set. */
const SECRET_NAMES = [
  "DEX_API_TOKEN",
  "PAGERDUTY_WEBHOOK_SECRET",
  "ZAPIER_TOKEN",
  "ALERTMANAGER_TOKEN",
  "GRAFANA_WEBHOOK_SECRET",
  "GRAFANA_TOKEN",
  "DATADOG_TOKEN",
  "WEBHOOK_SECRET",
  "WEBHOOK_TOKEN",
  "CLOUDFLARE_NOTIFICATIONS_SECRET",
  "ADMIN_TOKEN",
];

/** wrangler.jsonc as wrangler reads it; a syntax error comes back with its line and column. */
export async function readWranglerConfig() {
  const { unstable_readConfig } = await import("wrangler");
  try {
    return { config: unstable_readConfig({ config: join(root, "wrangler.jsonc") }), problems: [] };
  } catch (error) {
    return { config: undefined, problems: [`wrangler.jsonc: ${firstLine(error)}`] };
  }
}

/** Ids wrangler.jsonc ships as placeholders, which a deploy must replace. */
export function checkPlaceholders(config) {
  const problems = [];
  for (const kv of config.kv_namespaces ?? []) {
    if (String(kv.id ?? "").startsWith(PLACEHOLDER_PREFIX)) {
      problems.push(
        `wrangler.jsonc: kv_namespaces ${kv.binding}: id is still "${kv.id}"; run \`npx wrangler kv namespace create ${kv.binding}\` and paste the id`,
      );
    }
  }
  return problems;
}

/** `.dev.vars` (else dev/local.dev.vars, which `npm start` copies to it), as `wrangler dev` reads it. */
export function readDevVars() {
  for (const name of [".dev.vars", "dev/local.dev.vars"]) {
    const path = join(root, name);
    if (existsSync(path)) return { name, vars: parseEnv(readFileSync(path, "utf8")) };
  }
  return { name: undefined, vars: {} };
}

/** The relay's own checks (src/admin/health.ts), bundled for Node: the same code `GET /healthz` runs. */
export async function checkRelayConfig(env) {
  const outdir = join(root, "node_modules", ".cache", "dex-alert-relay");
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, "health.mjs");
  await build({
    entryPoints: [join(root, "src/admin/health.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "error",
    external: ["cloudflare:*"],
  });
  const { checkHealth } = await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
  return checkHealth(env);
}

/**
 * The full backtracking check of every rule pattern (scripts/pattern-audit.mjs, the same one
 * `npm run check:patterns` runs): the Worker itself only makes a structural check, to stay small.
 */
export async function checkPatterns(rules) {
  const [{ check }, { auditPattern, rulePatterns }] = await Promise.all([import("recheck"), import("./pattern-audit.mjs")]);
  const problems = [];
  let patterns;
  try {
    patterns = rulePatterns(rules);
  } catch {
    // RULES that do not parse are reported by the relay's own check.
    return problems;
  }
  for (const { path, pattern } of patterns) {
    const { problem } = await auditPattern(check, pattern);
    if (problem) problems.push(`${path}: ${problem}`);
  }
  return problems;
}

/**
 * Every check for one target; `local` is what `npm start` runs, otherwise what a deploy ships.
 * `patterns: false` skips the full backtracking check (seconds per pattern), as `npm start`
 * does: the Worker's own structural check still refuses the dangerous shapes when it loads.
 */
export async function runChecks({ local = false, patterns = true } = {}) {
  const { config, problems } = await readWranglerConfig();
  if (!config) return { problems, notes: [] };
  const notes = [];
  let env = { ...config.vars };
  if (local) {
    const devVars = readDevVars();
    env = { ...env, ...devVars.vars };
    notes.push(`variables: wrangler.jsonc${devVars.name ? ` with ${devVars.name} over it` : ""}`);
  } else {
    problems.push(...checkPlaceholders(config));
    for (const name of SECRET_NAMES) env[name] ??= "(set in Cloudflare)";
    notes.push("secrets are set with `wrangler secret put` and are not checked here; GET /healthz reports them once deployed");
  }
  const health = await checkRelayConfig(env);
  problems.push(...health.problems);
  if (health.rules !== null && patterns) problems.push(...(await checkPatterns(env.RULES)));
  if (health.rules !== null) notes.push(`${health.rules} rules load`);
  if (local)
    notes.push(
      `sources on: ${
        Object.entries(health.sources)
          .filter(([, on]) => on)
          .map(([name]) => name)
          .join(", ") || "none"
      }`,
    );
  return { problems, notes };
}

function firstLine(error) {
  return (
    String(error instanceof Error ? error.message : error)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape (ESC) starts the terminal colour codes it strips
      .replace(/\x1b\[[0-9;]*m/g, "")
      .trim()
      .split("\n")
      .slice(0, 3)
      .join(" ")
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const local = process.argv.includes("--local");
  const { problems, notes } = await runChecks({ local });
  const target = local ? "local configuration (npm start)" : "deploy configuration (wrangler.jsonc)";
  for (const note of notes) console.log(`check: ${note}`);
  if (problems.length === 0) {
    console.log(`check: ${target} is sound`);
  } else {
    console.error(`check: ${problems.length} problem(s) in the ${target}:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exitCode = 1;
  }
}
