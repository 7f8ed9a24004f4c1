// `npm run bench`: the relay's ingest throughput against a bare Worker, what an alert storm
// costs in DEX API calls, device lookups and KV operations, the time from an alert to its
// command (with and without transient API failures), DEX calls per command including status
// polls, a big group against a big fleet, the bundle size and how long the Worker takes to start. Prints a Markdown report and writes it to
// bench/results/latest.md. Needs nothing but `npm ci`: every Worker runs locally under
// `wrangler dev`, the DEX API is the stand-in in dev/. `BENCH_ONLY=latency,polls` runs only
// the sections named (see README.md beside this file).
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { measureBundle } from "./bundle.mjs";
import { fleetLaptops, measureFleetGroup } from "./fleet.mjs";
import { measureAlertToCommand } from "./latency.mjs";
import { compareUnderLoad } from "./load.mjs";
import { measureCallsPerCommand } from "./polls.mjs";
import { describeMachine, renderReport } from "./report.mjs";
import { measureColdStarts, measureStartupCpu } from "./startup.mjs";
import { childEnv, cpuShare, freePorts, killAllNow, leftovers, root, runWrangler, startWrangler, stopServers } from "./servers.mjs";
import { directTargetAlerts, eligibleRegistrations, measureStorm, post, sameUserAlerts } from "./storms.mjs";

/** The report's sections, in the order they run; `BENCH_ONLY` picks some. */
/** Well past any rate this machine can send: the benchmark measures the relay's path, not its sender limit. */
const BENCH_SENDER_LIMIT = 1_000_000;

const SECTIONS = ["storms", "latency", "polls", "fleet", "ingest", "bundle", "startup"];
const only = sectionsToRun(process.env.BENCH_ONLY);

/**
 * The highest value the relay's settings accept. The two storms create 150 commands, well
 * within it; the load test runs into it, as a real storm would, and the rest is capped.
 */
const MAX_COMMANDS_PER_MINUTE = 240;

const SETTINGS = {
  connections: 20,
  warmupSeconds: 3,
  segmentSeconds: 3,
  /** Rounds of capacity segments (each target twice per round); latency takes one more round. */
  rounds: 2,
  directAlerts: 100,
  lookupAlerts: 50,
  /** Alerts per alert-to-command phase (no faults; two 500s before each create). */
  latencyAlerts: positiveIntegerFrom("BENCH_LATENCY_ALERTS", 20),
  /** An alert whose command has not appeared by then is missed. */
  latencyAlertTimeoutSeconds: 120,
  /** No new alert is sent once a phase has run this long (one more may take the timeout). */
  latencyBudgetSeconds: positiveIntegerFrom("BENCH_LATENCY_BUDGET_S", 300),
  /** What is queued on the stand-in's create endpoint before each alert of the second phase. */
  latencyFaults: { create: [500, 500] },
  latencyGoalSeconds: 15,
  pollAlerts: positiveIntegerFrom("BENCH_POLL_ALERTS", 30),
  /** Waited after the stand-in calls every command finished, for the relay's last polls. */
  pollMarginSeconds: 30,
  pollTimeoutSeconds: 180,
  /** New `wrangler dev` processes timed to their first 200, for the relay and the bare Worker each. */
  coldStarts: positiveIntegerFrom("BENCH_COLD_STARTS", 7),
  /** `wrangler check startup` profiles of each. */
  startupProfiles: positiveIntegerFrom("BENCH_STARTUP_PROFILES", 5),
  /** Alerts in the fleet group, each naming one laptop. */
  fleetAlerts: positiveIntegerFrom("BENCH_FLEET_ALERTS", 200),
  /** Fleets the group is sent against: 10,000 devices, and a smaller fleet where reading the whole list is cheaper. */
  fleetSizes: positiveIntegersFrom("BENCH_FLEET_SIZES", [10_000, 2_000]),
  /** How the relay looks devices up in each fleet case: its default, and the per-device searches alone as the baseline. */
  fleetStrategies: ["auto", "search"],
  fleetTimeoutSeconds: 300,
  /** The relay's cap in every section, the fleet's too: said in its notes. */
  fleetMaxCommandsPerMinute: MAX_COMMANDS_PER_MINUTE,
};

/** One rule, one command per alert: alerts and commands can then be compared one to one. */
const BENCH_RULES = [
  // No cooldown: the storms send many alerts about the stand-in's few devices, one command each.
  { name: "bench-warp-diag", cooldown_minutes: 0, match: { severity: ["critical"] }, command: { type: "warp-diag", args: { "test-all-routes": true } } },
];
/** The stand-in's rate limit is the API's 1,200 per 5 minutes; the load test would pass it. */
const STAND_IN_RATE_LIMIT = 100_000;

const relayConfig = unstable_readConfig({ config: join(root, "wrangler.jsonc") });
const bareConfig = unstable_readConfig({ config: join(root, "bench", "bare-worker", "wrangler.toml") });
const bareQueueConfig = unstable_readConfig({ config: join(root, "bench", "bare-queue-worker", "wrangler.toml") });

const runDir = mkdtempSync(join(tmpdir(), "dex-alert-relay-bench-"));
const emptyEnvFile = join(runDir, "empty.env");
writeFileSync(emptyEnvFile, "");
const runId = `bench-${Date.now().toString(36)}`;
const secrets = {
  DEX_API_TOKEN: `bench-dex-token-${randomUUID()}`,
  ZAPIER_TOKEN: `bench-zapier-token-${randomUUID()}`,
  PAGERDUTY_WEBHOOK_SECRET: `bench-pagerduty-secret-${randomUUID()}`,
  ALERTMANAGER_TOKEN: `bench-alertmanager-token-${randomUUID()}`,
};
const bindingNames = [
  ...Object.keys(relayConfig.vars ?? {}),
  ...(relayConfig.secrets?.required ?? []),
  ...documentedBindings(),
  ...Object.keys(secrets),
  "STAND_IN_RATE_LIMIT",
];
const env = childEnv(bindingNames, runDir);

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every wrangler process of this run...`);
    await stopServers();
    rmSync(runDir, { recursive: true, force: true });
    process.exit(130);
  });
}
// Synchronous last resort: no wrangler group survives this process, however it ends.
process.on("exit", killAllNow);

try {
  await main();
} catch (error) {
  if (!interrupted) {
    console.error(`benchmark failed: ${error.stack ?? error}`);
    console.error(`logs and state are kept in ${runDir}`);
    process.exitCode = 1;
  }
} finally {
  await stopServers();
  const left = leftovers();
  if (left.length > 0) console.error(`processes still alive after stopping: ${left.join(", ")}`);
}

async function main() {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    throw new Error(`wrangler needs Node 22 or later; this is ${process.version}. Run \`npm run bench\`, which uses the project's Node.`);
  }
  const started = new Date();
  const notes = [];
  if (bareConfig.compatibility_date !== relayConfig.compatibility_date) {
    notes.push(
      `The bare Worker's compatibility date (${bareConfig.compatibility_date}) differs from the relay's (${relayConfig.compatibility_date}): update bench/bare-worker/wrangler.toml.`,
    );
  }
  if (bareQueueConfig.compatibility_date !== relayConfig.compatibility_date) {
    notes.push(
      `The bare + queue.send Worker's compatibility date (${bareQueueConfig.compatibility_date}) differs from the relay's (${relayConfig.compatibility_date}): update bench/bare-queue-worker/wrangler.toml.`,
    );
  }
  const machine = describeMachine();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, wrangler ${machine.wrangler}, workerd ${machine.workerd}`);
  if (only.size < SECTIONS.length) log(`sections: ${[...only].join(", ")} (BENCH_ONLY)`);
  const needed = serversFor(only);

  log("building the Workers (wrangler deploy --dry-run)...");
  // The startup section starts the bare Worker too, one process at a time, before anything else runs.
  const bundles = await buildAll(only.has("startup") ? new Set([...needed, "bare"]) : needed);
  const bundle = only.has("bundle") || only.has("startup") ? await measureBundle(bundles.relay, relayConfig.minify ?? false) : undefined;
  const startup = only.has("startup") ? await measureStartup(bundles) : undefined;

  const servers = {};
  if (needed.size > 0) {
    log(`starting ${[...needed].join(", ")}...`);
    Object.assign(servers, await startAll(bundles, needed));
  }
  for (const name of ["relay", "ingest", "kvRelay"].filter((n) => servers[n])) {
    const text = readFileSync(servers[name].logPath, "utf8");
    if (/Using \w+ defined in \S*\.dev\.vars/.test(text)) throw new Error(`${name} read .dev.vars; its bindings are not the benchmark's`);
  }
  const registrations = servers.standIn ? await eligibleRegistrations(servers.standIn, secrets.DEX_API_TOKEN) : [];

  let direct;
  let lookup;
  if (only.has("storms")) {
    const storm = { standIn: servers.standIn, relay: servers.kvRelay, token: secrets.ZAPIER_TOKEN };
    log(`storm of ${SETTINGS.directAlerts} alerts naming their device...`);
    direct = {
      // Every target is checked against the devices API: one search per user named.
      users: new Set(registrations.map((r) => r.personEmail)).size,
      ...(await measureStorm({
        ...storm,
        alerts: directTargetAlerts(SETTINGS.directAlerts, registrations, runId),
        expectedCommands: SETTINGS.directAlerts,
      })),
    };

    const user = registrations[0].personEmail;
    const userRegistrations = registrations.filter((r) => r.personEmail === user).length;
    log(`storm of ${SETTINGS.lookupAlerts} alerts naming ${user} by email...`);
    lookup = {
      user,
      expectedCommands: SETTINGS.lookupAlerts * userRegistrations,
      ...(await measureStorm({
        ...storm,
        alerts: sameUserAlerts(SETTINGS.lookupAlerts, user, runId),
        expectedCommands: SETTINGS.lookupAlerts * userRegistrations,
      })),
    };
  }

  // Both on the relay itself, before the load: the load spends the relay's per-minute command
  // budget and leaves its consumer a backlog, either of which would delay these commands.
  let latency;
  if (only.has("latency")) {
    const phase = (label, faults) =>
      measureAlertToCommand({
        standIn: servers.standIn,
        relay: servers.relay,
        token: secrets.ZAPIER_TOKEN,
        registrations,
        runId,
        label,
        count: SETTINGS.latencyAlerts,
        faults,
        alertTimeoutMs: SETTINGS.latencyAlertTimeoutSeconds * 1000,
        budgetMs: SETTINGS.latencyBudgetSeconds * 1000,
        log,
      });
    log(`alert to command: ${SETTINGS.latencyAlerts} alerts one at a time, no faults...`);
    const clean = await phase("no-faults", undefined);
    log(
      `alert to command: ${SETTINGS.latencyAlerts} alerts, ${JSON.stringify(SETTINGS.latencyFaults)} queued before each (at most ${SETTINGS.latencyBudgetSeconds} s of sending)...`,
    );
    const faulted = await phase("two-500s", SETTINGS.latencyFaults);
    latency = { clean, faulted, faults: SETTINGS.latencyFaults, goalSeconds: SETTINGS.latencyGoalSeconds };
  }

  let polls;
  if (only.has("polls")) {
    log(`DEX calls per command: storm of ${SETTINGS.pollAlerts} alerts by email, then until every command has finished + ${SETTINGS.pollMarginSeconds} s...`);
    polls = await measureCallsPerCommand({
      standIn: servers.standIn,
      relay: servers.relay,
      token: secrets.ZAPIER_TOKEN,
      registrations,
      runId,
      count: SETTINGS.pollAlerts,
      marginMs: SETTINGS.pollMarginSeconds * 1000,
      timeoutMs: SETTINGS.pollTimeoutSeconds * 1000,
    });
  }

  let fleet;
  if (only.has("fleet")) {
    fleet = { alerts: SETTINGS.fleetAlerts, cases: [] };
    for (const size of SETTINGS.fleetSizes) {
      await post(`${servers.fleetStandIn.url}__fleet`, { devices: size });
      const laptops = await fleetLaptops(servers.fleetStandIn, secrets.DEX_API_TOKEN, SETTINGS.fleetAlerts);
      for (const strategy of SETTINGS.fleetStrategies) {
        log(
          `fleet: a group of ${SETTINGS.fleetAlerts} alerts naming ${SETTINGS.fleetAlerts} of ${size} devices, DEVICE_LOOKUP = ${strategy}, on a relay with empty state...`,
        );
        const result = await measureFleetGroup({
          standIn: servers.fleetStandIn,
          startRelay: (label) => startFleetRelay(bundles.relay, servers.fleetStandIn, label, strategy),
          stopRelay: (relay) => stopServers([relay]),
          token: secrets.ALERTMANAGER_TOKEN,
          laptops,
          runId,
          label: `fleet-${size}-${strategy}`,
          timeoutMs: SETTINGS.fleetTimeoutSeconds * 1000,
        });
        log(
          `fleet ${size} ${strategy}: ${result.commands} commands, last after ${result.lastCommandSeconds?.toFixed(1)} s, devices ${JSON.stringify(result.deviceReads)}, calls ${JSON.stringify(result.calls)}, 429s ${result.rateLimited}`,
        );
        fleet.cases.push({ size, strategy, ...result });
      }
    }
  }

  let load;
  if (only.has("ingest")) {
    const loadSeconds = 4 * SETTINGS.warmupSeconds + 8 * (SETTINGS.rounds + 1) * SETTINGS.segmentSeconds;
    log(`load: relay, relay without consumer, bare Worker + queue.send and bare Worker, about ${loadSeconds} s of load...`);
    const loadAverage = loadavg()[0];
    load = {
      loadAverage,
      ...(await compareUnderLoad({
        relay: servers.relay,
        ingest: servers.ingest,
        bare: servers.bare,
        bareQueue: servers.bareQueue,
        token: secrets.ZAPIER_TOKEN,
        runId,
        connections: SETTINGS.connections,
        warmupSeconds: SETTINGS.warmupSeconds,
        segmentSeconds: SETTINGS.segmentSeconds,
        rounds: SETTINGS.rounds,
        cpuShare,
        log,
      })),
    };
  }

  await stopServers();
  const report = renderReport({
    machine,
    startedAt: started,
    totalSeconds: (Date.now() - started.getTime()) / 1000,
    settings: SETTINGS,
    bundle,
    startup,
    direct,
    lookup,
    load,
    latency,
    polls,
    fleet,
    notes: [
      `Relay settings for the run: RULES = one rule (${BENCH_RULES[0].name}: every critical alert → warp-diag, no cooldown), MAX_COMMANDS_PER_MINUTE = ${MAX_COMMANDS_PER_MINUTE}, the sender limit (SENDER_LIMITER) raised to ${BENCH_SENDER_LIMIT.toLocaleString("en-US")} a minute, past anything this load sends with its one token; the stand-in's STAND_IN_RATE_LIMIT = ${STAND_IN_RATE_LIMIT}${only.has("fleet") ? " (the fleet section's own stand-in: the API's 1,200)" : ""}.`,
      ...(only.size < SECTIONS.length ? [`Sections run (BENCH_ONLY): ${[...only].join(", ")}.`] : []),
      ...notes,
    ],
  });
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", "latest.md"), report);
  console.log(`\n${report}`);
  log("written to bench/results/latest.md");
  rmSync(runDir, { recursive: true, force: true });
}

/**
 * How long the relay and the bare Worker take from a new `wrangler dev` to their first 200 on
 * /healthz, each started `coldStarts` times in turn, nothing else running; and the CPU their
 * global scope takes in workerd, from `startupProfiles` runs of `wrangler check startup`.
 */
async function measureStartup(bundles) {
  const [port, inspectorPort] = await freePorts(2);
  // Polled every 20 ms: the answer is timed to within that.
  const start = (label, spec) => (run) =>
    dev(`${label}-cold-${run}`, { ...spec, port, inspectorPort, path: "healthz", ready: (res) => res.status === 200, pollMs: 20, logLevel: "warn" });
  log(`cold starts: ${SETTINGS.coldStarts} × relay and bare Worker in turn, to the first 200 on /healthz...`);
  const { relay, bare } = await measureColdStarts({
    runs: SETTINGS.coldStarts,
    targets: {
      // The DEX API is never called: /healthz only reads the configuration.
      relay: start("relay", {
        bundle: bundles.relay,
        config: "wrangler.jsonc",
        vars: relayVarsFor(`http://127.0.0.1:${port}/`),
        workerName: "dex-alert-relay-bench-cold",
      }),
      bare: start("bare", { bundle: bundles.bare, config: "bench/bare-worker/wrangler.toml", workerName: "dex-alert-relay-bench-bare-cold" }),
    },
  });
  log(`startup CPU: ${SETTINGS.startupProfiles} × wrangler check startup, relay and bare Worker...`);
  const profile = (label, dir) => measureStartupCpu({ label, dir, runs: SETTINGS.startupProfiles, env, runDir });
  return { relay, bare, relayCpu: await profile("relay", root), bareCpu: await profile("bare", join(root, "bench", "bare-worker")), loadAverage: loadavg()[0] };
}

/** The sections `BENCH_ONLY` names (comma-separated), or all of them. */
function sectionsToRun(value) {
  if (!value?.trim()) return new Set(SECTIONS);
  const named = value
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = named.filter((name) => !SECTIONS.includes(name));
  if (unknown.length > 0) {
    console.error(`BENCH_ONLY names unknown sections: ${unknown.join(", ")}; the sections are ${SECTIONS.join(", ")}`);
    process.exit(2);
  }
  return new Set(SECTIONS.filter((name) => named.includes(name)));
}

/** A positive integer from the environment, or the default when unset. */
function positiveIntegerFrom(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

/** Positive integers from the environment, comma-separated, or the defaults when unset. */
function positiveIntegersFrom(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 1)) {
    console.error(`${name} must be positive integers separated by commas, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return values;
}

/** The Workers each section talks to; the fleet section also starts a relay of its own per case. */
function serversFor(sections) {
  const needed = new Set();
  const add = (...names) => names.forEach((name) => needed.add(name));
  if (sections.has("storms")) add("standIn", "kvRelay");
  if (sections.has("fleet")) add("fleetStandIn");
  if (sections.has("latency") || sections.has("polls")) add("standIn", "relay");
  if (sections.has("ingest")) add("standIn", "relay", "ingest", "bare", "bareQueue");
  return needed;
}

/** Names dev/local.dev.vars documents: the bindings a developer may have exported. */
function documentedBindings() {
  try {
    const text = readFileSync(join(root, "dev", "local.dev.vars"), "utf8");
    return [...text.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=/gm)].map((match) => match[1]);
  } catch {
    return [];
  }
}

/**
 * wrangler.jsonc without its queue consumers, for the ingest-only relay: what acknowledging
 * an alert costs when no consumer batch runs in the same workerd. Under `wrangler dev` the
 * queue, its consumer and the Worker receiving alerts share one workerd, and alerts that
 * arrive while a batch is worked wait for it; in production the queue is a separate service.
 */
/**
 * The relay's configuration for a run, written under the run's directory: wrangler.jsonc with
 * the sender limit (SENDER_LIMITER) raised to BENCH_SENDER_LIMIT a minute, since the load
 * sends every alert with one token (the limiter is still called for each), and without queue
 * consumers when asked, for the relay-without-its-consumer target.
 */
function writeBenchConfig(name, { withoutConsumers = false } = {}) {
  const { rawConfig } = experimental_readRawConfig({ config: join(root, "wrangler.jsonc") });
  if (withoutConsumers && !rawConfig.queues?.consumers?.length) throw new Error("wrangler.jsonc has no queues.consumers to leave out");
  const { consumers, ...producersOnly } = rawConfig.queues ?? {};
  const ratelimits = (rawConfig.ratelimits ?? []).map((limit) => ({ ...limit, simple: { ...limit.simple, limit: BENCH_SENDER_LIMIT } }));
  const path = join(runDir, `${name}.jsonc`);
  writeFileSync(path, JSON.stringify({ ...rawConfig, ratelimits, ...(withoutConsumers ? { queues: producersOnly } : {}) }, null, 2));
  return path;
}

/**
 * Bundles each Worker once, as `wrangler deploy` would, and returns the path of each
 * bundle. `wrangler dev` then serves these files unbundled: an edit to the sources during
 * the run cannot reload a Worker in the middle of a measurement.
 */
async function buildAll(servers) {
  const all = {
    relay: ["--config", "wrangler.jsonc"],
    kvRelay: ["bench/kv-counted/relay-entry.ts", "--config", "wrangler.jsonc"],
    standIn: ["--config", "dev/dex-stand-in/wrangler.toml"],
    bare: ["--config", "bench/bare-worker/wrangler.toml"],
    bareQueue: ["--config", "bench/bare-queue-worker/wrangler.toml"],
  };
  // The relay's bundle is always built: the bundle section measures it, the ingest-only and fleet relays run it.
  const builds = Object.fromEntries(
    Object.entries(all).filter(([name]) => name === "relay" || servers.has(name) || (name === "standIn" && servers.has("fleetStandIn"))),
  );
  const paths = {};
  await Promise.all(
    Object.entries(builds).map(async ([name, args]) => {
      const outdir = join(runDir, "build", name);
      await runWrangler(["deploy", "--dry-run", ...args, "--outdir", outdir], env);
      const file = readdirSync(outdir).find((f) => f.endsWith(".js"));
      if (!file) throw new Error(`wrangler deploy --dry-run wrote no .js file to ${outdir}`);
      paths[name] = join(outdir, file);
    }),
  );
  return paths;
}

/** The relay's bindings in every run: the benchmark's rule and cap, its secrets, the stand-in at `standInUrl`. */
function relayVarsFor(standInUrl, extra = {}) {
  return {
    CF_ACCOUNT_ID: "bench-account",
    DEX_API_BASE: `${standInUrl}client/v4`,
    IDEMPOTENCY_TTL_HOURS: "24",
    MAX_COMMANDS_PER_MINUTE: String(MAX_COMMANDS_PER_MINUTE),
    RULES: JSON.stringify(BENCH_RULES),
    ...secrets,
    ...extra,
  };
}

/**
 * `wrangler dev` serving a prebuilt bundle on `port`, with state, dev registry and log of
 * its own under the run's directory; resolves once `path` answers (and `ready` accepts it).
 */
function dev(name, { bundle, config, port, inspectorPort, vars = {}, workerName, logLevel = "info", path = "", ready, pollMs }) {
  return startWrangler({
    label: name,
    url: `http://127.0.0.1:${port}/${path}`,
    logPath: join(runDir, `${name}.log`),
    env,
    registryDir: join(runDir, "registry", name),
    ready,
    pollMs,
    args: [
      "dev",
      bundle,
      "--no-bundle",
      "--config",
      config,
      "--name",
      workerName,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      join(runDir, "state", name),
      // Given an env file, wrangler reads it instead of .dev.vars; this one is empty.
      "--env-file",
      emptyEnvFile,
      "--show-interactive-dev-session=false",
      "--log-level",
      logLevel,
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ],
  });
}

/** A relay for one fleet case: fresh KV and ledger (no device list, fleet size or budget spent before), `DEVICE_LOOKUP` as given. */
async function startFleetRelay(bundle, standIn, label, strategy) {
  const [port, inspectorPort] = await freePorts(2);
  return dev(label, {
    bundle,
    config: writeBenchConfig(label),
    port,
    inspectorPort,
    vars: relayVarsFor(standIn.url, { DEVICE_LOOKUP: strategy }),
    workerName: `dex-alert-relay-bench-${label}`,
    logLevel: "warn",
  });
}

/** The Workers in `needed`, on free loopback ports, each with empty state of its own. */
async function startAll(bundles, needed) {
  const [standInPort, relayPort, ingestPort, kvRelayPort, barePort, bareQueuePort, fleetStandInPort, ...inspectorPorts] = await freePorts(14);
  const standInUrl = `http://127.0.0.1:${standInPort}/`;
  const relayVars = relayVarsFor(standInUrl);
  const specs = {
    standIn: () =>
      dev("stand-in", {
        bundle: bundles.standIn,
        config: "dev/dex-stand-in/wrangler.toml",
        port: standInPort,
        inspectorPort: inspectorPorts[0],
        vars: { STAND_IN_RATE_LIMIT: String(STAND_IN_RATE_LIMIT) },
        workerName: "dex-api-stand-in-bench",
      }),
    // The fleet section's own stand-in, with the API's rate limit (1,200 calls per 5 minutes):
    // a 429 there is one the real API would have answered.
    fleetStandIn: () =>
      dev("fleet-stand-in", {
        bundle: bundles.standIn,
        config: "dev/dex-stand-in/wrangler.toml",
        port: fleetStandInPort,
        inspectorPort: inspectorPorts[6],
        vars: { STAND_IN_RATE_LIMIT: "1200" },
        workerName: "dex-api-stand-in-bench-fleet",
        logLevel: "warn",
      }),
    // The load targets log warnings only, so that wrangler does not print a line per
    // request (and the relay one per decision) while the load runs.
    relay: () =>
      dev("relay", {
        bundle: bundles.relay,
        config: writeBenchConfig("relay"),
        port: relayPort,
        inspectorPort: inspectorPorts[1],
        vars: relayVars,
        workerName: "dex-alert-relay-bench",
        logLevel: "warn",
      }),
    ingest: () =>
      dev("relay-ingest-only", {
        bundle: bundles.relay,
        config: writeBenchConfig("relay-ingest-only", { withoutConsumers: true }),
        port: ingestPort,
        inspectorPort: inspectorPorts[2],
        vars: relayVars,
        workerName: "dex-alert-relay-bench-ingest-only",
        logLevel: "warn",
      }),
    kvRelay: () =>
      dev("kv-relay", {
        bundle: bundles.kvRelay,
        config: writeBenchConfig("kv-relay"),
        port: kvRelayPort,
        inspectorPort: inspectorPorts[3],
        vars: relayVars,
        workerName: "dex-alert-relay-bench-kv-counted",
      }),
    bare: () =>
      dev("bare", {
        bundle: bundles.bare,
        config: "bench/bare-worker/wrangler.toml",
        port: barePort,
        inspectorPort: inspectorPorts[4],
        workerName: "dex-alert-relay-bench-bare",
        logLevel: "warn",
      }),
    // A queue producer and no consumer, like the relay without its consumer.
    bareQueue: () =>
      dev("bare-queue", {
        bundle: bundles.bareQueue,
        config: "bench/bare-queue-worker/wrangler.toml",
        port: bareQueuePort,
        inspectorPort: inspectorPorts[5],
        workerName: "dex-alert-relay-bench-bare-queue",
        logLevel: "warn",
      }),
  };
  const started = await Promise.all([...needed].map(async (name) => [name, await specs[name]()]));
  return Object.fromEntries(started);
}

function log(message) {
  console.error(`[bench] ${message}`);
}
