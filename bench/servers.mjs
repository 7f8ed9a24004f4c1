// Starting and stopping the benchmark's wrangler processes, and reading their CPU use. Each
// runs in its own process group: wrangler starts a second Node process and two workerd, and
// stopping the group is the only way to be sure none of them outlives the benchmark.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
const wranglerBin = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** How long a wrangler dev may take to answer its first request (bundling, workerd start). */
const START_TIMEOUT_MS = 90_000;
/** Time given to wrangler to close workerd before its whole group is killed. */
const STOP_GRACE_MS = 5_000;
/** How long the whole of `wrangler deploy --dry-run` may take. */
const DRY_RUN_TIMEOUT_MS = 120_000;

/** Every process group started here that has not been confirmed gone. */
const live = new Set();

/** `count` distinct free loopback ports, held open together so none is handed out twice. */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
      servers.push(server);
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/**
 * The environment for every wrangler the benchmark runs. Binding names are removed, so a
 * value exported in the developer's shell cannot reach a Worker: bindings come from `--var`
 * only. Wrangler's debug logs go to the run's own directory.
 */
export function childEnv(bindingNames, runDir) {
  const env = {
    ...process.env,
    WRANGLER_LOG_PATH: join(runDir, "wrangler-logs"),
    // Not process.env as bindings, even if the shell asks for it. (With a [secrets] table in
    // the config wrangler reads process.env regardless: hence the names removed below.)
    CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
    // Others may edit wrangler.jsonc during a run; the run keeps the configuration it started with.
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    // wrangler dev's local log store and data explorer tail every invocation: a cost of
    // the dev tool, which deployed Workers do not pay in their own isolate.
    X_LOCAL_OBSERVABILITY: "false",
    X_LOCAL_EXPLORER: "false",
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
  for (const name of bindingNames) delete env[name];
  return env;
}

/**
 * Starts `wrangler <args>` in its own process group, with stdout and stderr going to
 * `logPath`, and resolves once `url` answers any HTTP request (or one `ready` accepts;
 * `url` is tried every `pollMs`).
 *
 * Each server gets a dev registry of its own (`registryDir`). wrangler dev connects the
 * sessions of one registry: two Workers producing to a queue of the same name would share
 * one queue and one consumer, and a `npm start` beside the run would share it too.
 */
export async function startWrangler({ label, args, url, logPath, env, registryDir, ready = () => true, pollMs = 250 }) {
  const log = openSync(logPath, "a");
  const child = spawn(process.execPath, [wranglerBin, ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...env, WRANGLER_REGISTRY_PATH: registryDir },
  });
  closeSync(log);
  const server = { label, url, logPath, child, exited: false };
  live.add(server);
  child.on("exit", () => {
    server.exited = true;
  });
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  await waitUntilAnswering(server, ready, pollMs);
  return server;
}

async function waitUntilAnswering(server, ready, pollMs) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${server.label} exited before answering\n${logTail(server)}`);
    try {
      const response = await fetch(server.url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (ready(response)) return;
    } catch {
      // Not listening yet.
    }
    await sleep(pollMs);
  }
  throw new Error(`${server.label} did not answer ${server.url} within ${START_TIMEOUT_MS / 1000} s\n${logTail(server)}`);
}

/** The last lines of a server's log, to explain a failure. */
export function logTail(server, lines = 25) {
  try {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape (ESC) starts the terminal colour codes it strips
    const text = readFileSync(server.logPath, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
    return text
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((line) => `  | ${line}`)
      .join("\n");
  } catch {
    return "  | (no log)";
  }
}

/** Stops servers: SIGTERM to each group, SIGKILL to what is left after the grace period. */
export async function stopServers(servers = [...live]) {
  await Promise.all(
    servers.map(async (server) => {
      signalGroup(server, "SIGTERM");
      const deadline = Date.now() + STOP_GRACE_MS;
      while (!server.exited && Date.now() < deadline) await sleep(100);
      // workerd can outlive wrangler for a moment: the group goes, whatever is in it.
      signalGroup(server, "SIGKILL");
      const gone = Date.now() + STOP_GRACE_MS;
      while (groupMembers(server.child.pid).length > 0 && Date.now() < gone) await sleep(100);
      live.delete(server);
    }),
  );
}

/** Last resort on the way out (process `exit` handlers must be synchronous). */
export function killAllNow() {
  for (const server of live) signalGroup(server, "SIGKILL");
}

/** Processes still alive in any group this module started. */
export function leftovers() {
  return [...live].flatMap((server) => groupMembers(server.child.pid));
}

function signalGroup(server, signal) {
  try {
    process.kill(-server.child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Pids of the processes whose process group is `pgid` (Linux /proc; empty elsewhere). */
export function groupMembers(pgid) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+$/.test(name) && procStat(name)?.pgrp === pgid).map(Number);
}

/** Fields of /proc/<pid>/stat the benchmark uses: process group and CPU time in clock ticks. */
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: fields are counted after it.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by every process in a server's group (Linux; undefined elsewhere). */
function groupCpuSeconds(server) {
  const pids = groupMembers(server.child.pid);
  if (pids.length === 0) return undefined;
  // Linux reports /proc times in USER_HZ, which is 100 on every mainstream distribution.
  return pids.reduce((sum, pid) => sum + (procStat(pid)?.ticks ?? 0), 0) / 100;
}

/**
 * Waits until a server's processes use less than `threshold` of one core over `windowMs`,
 * for at most `timeoutMs`. Used to let the relay's queue consumer finish the backlog one
 * load segment left before the next segment is measured. Resolves with the seconds waited
 * and whether the server did go quiet.
 */
export async function waitUntilQuiet(server, { threshold = 0.05, windowMs = 500, timeoutMs = 30_000 } = {}) {
  const started = Date.now();
  let before = groupCpuSeconds(server);
  if (before === undefined) {
    await sleep(2_000);
    return { seconds: (Date.now() - started) / 1000, quiet: false };
  }
  while (Date.now() - started < timeoutMs) {
    await sleep(windowMs);
    const after = groupCpuSeconds(server) ?? before;
    if ((after - before) / (windowMs / 1000) < threshold) return { seconds: (Date.now() - started) / 1000, quiet: true };
    before = after;
  }
  return { seconds: (Date.now() - started) / 1000, quiet: false };
}

/** Runs `wrangler <args>` to completion, bounded in time; resolves with its output. */
export function runWrangler(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], { cwd: root, detached: true, env });
    const server = { label: `wrangler ${args[0]}`, child, exited: false };
    live.add(server);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => signalGroup(server, "SIGKILL"), DRY_RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      server.exited = true;
      live.delete(server);
      signalGroup(server, "SIGKILL");
      if (code === 0) resolve(output);
      else reject(new Error(`wrangler ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`));
    });
  });
}

/**
 * Measures, over the intervals between `start()` and `stop()`, the share of the whole
 * machine's CPU that went to processes other than this one and the servers it started:
 * other work on the machine that the measurements competed with. Linux only; `otherShare()`
 * is undefined elsewhere.
 */
export function cpuShare() {
  let began;
  const sum = { busy: 0, total: 0, ours: 0 };
  return {
    start() {
      began = snapshot();
    },
    stop() {
      const end = snapshot();
      if (!began || !end) return;
      for (const key of Object.keys(sum)) sum[key] += end[key] - began[key];
    },
    otherShare() {
      return sum.total > 0 ? Math.max(0, (sum.busy - sum.ours) / sum.total) : undefined;
    },
  };
}

/** Machine-wide busy and total CPU ticks, and the ticks of this process and its servers. */
function snapshot() {
  try {
    const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
    const busy = user + nice + system + irq + softirq + (steal || 0);
    const servers = [...live].flatMap((server) => groupMembers(server.child.pid));
    const ours = [process.pid, ...servers].reduce((total, pid) => total + (procStat(pid)?.ticks ?? 0), 0);
    return { busy, total: busy + idle + iowait, ours };
  } catch {
    return undefined;
  }
}
