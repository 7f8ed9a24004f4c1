// `npm start`: the relay on :8787 and the DEX API stand-in on :8788, together, with each
// line of output labelled by who said it. When either stops, or on Ctrl-C, both stop.
// Extra arguments go to the relay's `wrangler dev` (`npm start -- --remote`, say).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { runChecks } from "./check.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const onWindows = process.platform === "win32";
const wrangler = join(root, "node_modules", ".bin", onWindows ? "wrangler.cmd" : "wrangler");
/** Time given to wrangler to close workerd before the whole process group is killed. */
const GRACE_MS = 5_000;

if (!existsSync(join(root, ".dev.vars"))) {
  copyFileSync(join(root, "dev", "local.dev.vars"), join(root, ".dev.vars"));
  console.log("[start] created .dev.vars from dev/local.dev.vars (local test values)");
}

// The checks of `npm run check -- --local` but the slow full pattern audit: a broken RULES is
// said now, not at the first alert.
const { problems } = await runChecks({ local: true, patterns: false }).catch((error) => ({ problems: [`the check itself failed: ${error.message}`] }));
if (problems.length > 0) {
  console.error(`[start] the configuration has ${problems.length} problem(s); alerts will be refused until they are fixed:`);
  for (const problem of problems) console.error(`[start]   - ${problem}`);
} else {
  console.log("[start] configuration checked: sound (see http://localhost:8787/healthz)");
}

// `STAND_IN_FLEET=10000 npm start`: the stand-in enrols that many generated devices besides its
// seed (dev/dex-stand-in/README.md), to watch device lookups at the scale of a real fleet.
const fleet = process.env.STAND_IN_FLEET?.trim();
const fleetArgs = fleet && /^\d+$/.test(fleet) ? ["--var", `STAND_IN_FLEET:${fleet}`] : [];
if (fleet && fleetArgs.length === 0)
  console.error(`[start] STAND_IN_FLEET must be a whole number of devices, not ${JSON.stringify(fleet)}; starting without a fleet`);
else if (fleet) console.log(`[start] the DEX stand-in enrols a generated fleet of ${fleet} devices`);

const children = [
  run("[dex-api]", ["dev", "--config", "dev/dex-stand-in/wrangler.toml", "--port", "8788", "--inspector-port", "9230", ...fleetArgs]),
  run("[relay]", ["dev", "--port", "8787", "--inspector-port", "9229", ...process.argv.slice(2)]),
];
let stopping = false;

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

function run(label, args) {
  const child = spawn(wrangler, args, {
    cwd: root,
    // Own process group, so stopping it also stops the workerd that wrangler starts.
    detached: !onWindows,
    shell: onWindows,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}) },
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => console.log(`${label} ${line}`));
  }
  child.on("error", (error) => {
    console.error(`${label} could not start wrangler: ${error.message}`);
    stopAll(1);
  });
  child.on("exit", (code, signal) => {
    if (!stopping) console.log(`${label} exited (${signal ?? `code ${code}`}); stopping the other one`);
    stopAll(code ?? 1);
  });
  return child;
}

function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  children.forEach((child) => signalGroup(child, "SIGTERM"));
  const force = setTimeout(() => children.forEach((child) => signalGroup(child, "SIGKILL")), GRACE_MS);
  Promise.all(children.map(exited)).then(() => {
    clearTimeout(force);
    // Anything wrangler left behind in its group goes too.
    children.forEach((child) => signalGroup(child, "SIGKILL"));
    process.exit(exitCode);
  });
}

function signalGroup(child, signal) {
  try {
    if (onWindows) child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", resolve));
}
