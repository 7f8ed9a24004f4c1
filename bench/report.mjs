// The machine a run happened on, and the Markdown report of the run.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { root } from "./servers.mjs";

/** Workers KV list prices beyond the Workers Paid plan's included usage, in USD per million. */
export const KV_PRICES = { read: 0.5, write: 5, delete: 5, list: 5 };
/** Included in Workers Paid each month, before those prices apply. */
const KV_INCLUDED = "10 M reads and 1 M writes, deletes and lists a month";

export function describeMachine() {
  let cpu = "unknown CPU";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // Not Linux: the core count and versions still say something.
  }
  const workerd = spawnSync(join(root, "node_modules", ".bin", "workerd"), ["--version"], { encoding: "utf8", timeout: 10_000 });
  return {
    cpu,
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    wrangler: JSON.parse(readFileSync(join(root, "node_modules", "wrangler", "package.json"), "utf8")).version,
    workerd: workerd.stdout?.trim().replace(/^workerd\s+/, "") || "unknown",
  };
}

const integer = (n) => Math.round(n).toLocaleString("en-US");
const fixed = (n, digits = 2) => n.toFixed(digits);
const ms = (n) => (Number.isFinite(n) ? `${Number.isInteger(n) ? n : n.toFixed(1)} ms` : "n/a");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const dollars = (n) => `$${n.toFixed(2)}`;
const verdict = (met) => (met ? "met" : "**missed**");

/** What went wrong with requests, or "none". */
function failures({ nonSuccess, statuses, connectionErrors, timeouts }) {
  const parts = Object.entries(statuses).map(([code, count]) => `${count} × HTTP ${code}`);
  if (connectionErrors - timeouts > 0) parts.push(`${connectionErrors - timeouts} connection errors`);
  if (timeouts > 0) parts.push(`${timeouts} timeouts`);
  return nonSuccess + connectionErrors === 0 ? "none" : parts.join(", ");
}

/** How long the relay stayed busy after its segments, and whether it ever failed to go quiet. */
function drainRange(drains) {
  if (drains.length === 0) return "n/a";
  const seconds = drains.map((d) => d.seconds);
  const stuck = drains.filter((d) => !d.quiet).length;
  return `${fixed(Math.min(...seconds), 1)} – ${fixed(Math.max(...seconds), 1)} s over ${drains.length} segments${stuck ? `, ${stuck} still busy at the timeout` : ""}`;
}

const pacedCell = (t) => `${ms(t.p50)} / ${ms(t.p99)} (${ms(t.max)}), ${t.samples}`;

const clean = (result) => result.nonSuccess + result.connectionErrors === 0;

function stormFailures({ failures: byStatus }) {
  const parts = Object.entries(byStatus).map(([status, count]) => `${count} × ${/^\d+$/.test(status) ? `HTTP ${status}` : status}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

/** KV operations of one storm, per alert, and what they would cost per million alerts. */
export function kvPerAlert(storm) {
  const { singleGets, bulkGets, bulkGetKeys, puts, deletes, lists } = storm.kv;
  const perAlert = (n) => n / storm.alerts;
  const reads = perAlert(singleGets + bulkGetKeys);
  const writes = perAlert(puts);
  const dels = perAlert(deletes);
  const listCalls = perAlert(lists);
  const cost = reads * KV_PRICES.read + writes * KV_PRICES.write + dels * KV_PRICES.delete + listCalls * KV_PRICES.list;
  const byKey = Object.entries(storm.kv.byPrefix ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([prefix, ops]) => {
      const deleted = ops.deletes > 0 ? `, ${fixed(perAlert(ops.deletes))} deletes` : "";
      return `${prefix}: ${fixed(perAlert(ops.reads))} / ${fixed(perAlert(ops.writes))}${deleted}`;
    })
    .join("; ");
  return { reads, readCalls: perAlert(singleGets + bulkGets), writes, deletes: dels, lists: listCalls, cost, byKey };
}

/** Rows of the ingest section: capacity and the latency to the 202. */
function ingestRows(load, settings) {
  const ratio = load.relay.perSecond / load.bare.perSecond;
  const ingestRatio = load.ingest.perSecond / load.bare.perSecond;
  const ingestToBareQueue = load.ingest.perSecond / load.bareQueue.perSecond;
  const targets = [load.relay, load.ingest, load.bare];
  const { paced } = load;
  const pacedTargets = [paced.relay, paced.ingest, paced.bare];
  return [
    [`**Ingest capacity**: ${settings.connections} clients sending as fast as answered`, "", "", ""],
    ["Relay: acknowledged alerts/s", integer(load.relay.perSecond), "", ""],
    ["Relay without its queue consumer: acknowledged alerts/s", integer(load.ingest.perSecond), "", ""],
    ["Bare Worker: acknowledged alerts/s", integer(load.bare.perSecond), "", ""],
    ["Bare Worker + queue.send: acknowledged alerts/s", integer(load.bareQueue.perSecond), "", ""],
    ["Relay ÷ bare (each round's)", `${fixed(ratio)} (${load.roundRatios.map((r) => fixed(r.relay)).join(", ")})`, "≥ 0.70", verdict(ratio >= 0.7)],
    [
      "Relay without consumer ÷ bare (each round's)",
      `${fixed(ingestRatio)} (${load.roundRatios.map((r) => fixed(r.ingest)).join(", ")})`,
      "≥ 0.70",
      verdict(ingestRatio >= 0.7),
    ],
    ["Latency at capacity, p50 / p99: relay; without consumer; bare", targets.map((t) => `${ms(t.p50)} / ${ms(t.p99)}`).join("; "), "", ""],
    ["Errors: relay; without consumer; bare", targets.map(failures).join("; "), "none", verdict(targets.every(clean))],
    [
      "Relay without consumer ÷ bare + queue.send (each round's)",
      `${fixed(ingestToBareQueue)} (${load.roundRatios.map((r) => fixed(r.ingestToBareQueue)).join(", ")})`,
      "",
      "",
    ],
    [
      "Bare + queue.send at capacity: p50 / p99; errors",
      `${ms(load.bareQueue.p50)} / ${ms(load.bareQueue.p99)}; ${failures(load.bareQueue)}`,
      "none",
      verdict(clean(load.bareQueue)),
    ],
    [`**Latency to the 202** at ${paced.rate} alerts/s (half the slowest target's capacity)`, "", "", ""],
    ["Relay: p50 / p99 (max), requests", pacedCell(paced.relay), "p99 < 50 ms", verdict(paced.relay.p99 < 50)],
    ["Relay without its queue consumer: p50 / p99 (max), requests", pacedCell(paced.ingest), "p99 < 50 ms", verdict(paced.ingest.p99 < 50)],
    ["Bare Worker: p50 / p99 (max), requests", pacedCell(paced.bare), "", ""],
    ["Errors: relay; without consumer; bare", pacedTargets.map(failures).join("; "), "none", verdict(pacedTargets.every(clean))],
    [
      "Bare Worker + queue.send: p50 / p99 (max), requests; errors",
      `${pacedCell(paced.bareQueue)}; ${failures(paced.bareQueue)}`,
      "none",
      verdict(clean(paced.bareQueue)),
    ],
    ["Relay's consumer busy after a relay segment: shortest – longest", drainRange(load.drains), "", ""],
    [
      "Other work on the machine during load: CPU share (1-min load average before)",
      `${load.otherCpu === undefined ? "unknown" : `${integer(load.otherCpu * 100)} %`} (${fixed(load.loadAverage)})`,
      "≈ 0 %",
      load.otherCpu === undefined ? "" : load.otherCpu < 0.1 ? "quiet" : "**disturbed**",
    ],
  ];
}

/** Rows of the storm sections: DEX calls, device lookups and KV operations. */
function stormRows(direct, lookup) {
  const createGoal = Math.ceil(direct.commands / 10);
  // The ledger reads the account's command quota at most every 5 minutes while it sends.
  const quotaGoal = Math.max(1, Math.ceil(direct.lastChangeSeconds / 300));
  const directKv = kvPerAlert(direct);
  const lookupKv = kvPerAlert(lookup);
  return [
    [`**DEX create calls**: ${direct.alerts} alerts naming their device, distinct episodes`, "", "", ""],
    ["Alerts acknowledged / refused", `${direct.acknowledged} / ${stormFailures(direct)}`, "", ""],
    ["Commands created", `${direct.commands}`, `${direct.alerts}`, verdict(direct.commands === direct.alerts)],
    ["Create calls", `${direct.calls.create}`, `⌈${direct.commands}/10⌉ = ${createGoal}`, verdict(direct.calls.create <= createGoal)],
    ["Create calls ÷ goal", fixed(direct.calls.create / Math.max(1, createGoal)), "1.00", ""],
    [
      "Other DEX calls: list / devices / quota",
      `${direct.calls.list} / ${direct.calls.devices} / ${direct.calls.quota}`,
      `0 / ≤ ${direct.users} (one per user named) / ≤ ${quotaGoal} (one per 5 minutes)`,
      verdict(direct.calls.list === 0 && direct.calls.quota <= quotaGoal && direct.calls.devices <= direct.users),
    ],
    ["First alert sent → last change seen", `${fixed(direct.lastChangeSeconds, 1)} s${direct.drained ? "" : " (timed out)"}`, "", ""],
    [`**Device lookups**: ${lookup.alerts} alerts naming ${lookup.user} by email only`, "", "", ""],
    ["Alerts acknowledged / refused", `${lookup.acknowledged} / ${stormFailures(lookup)}`, "", ""],
    ["Device-search calls", `${lookup.calls.devices}`, "1 per user per minute", verdict(lookup.calls.devices <= 1)],
    [
      "Commands created / create calls",
      `${lookup.commands} / ${lookup.calls.create}`,
      `${lookup.expectedCommands} / ${Math.ceil(lookup.expectedCommands / 10)}`,
      verdict(lookup.commands === lookup.expectedCommands),
    ],
    ["**KV operations per alert** (counted on the binding)", "", "", ""],
    [
      "Device named: key reads (read calls) / writes / deletes",
      `${fixed(directKv.reads)} (${fixed(directKv.readCalls)}) / ${fixed(directKv.writes)} / ${fixed(directKv.deletes)}`,
      "",
      "",
    ],
    ["Device named: key reads / writes by key prefix", directKv.byKey, "", ""],
    ["Device named: KV cost per million alerts", dollars(directKv.cost), "", ""],
    [
      "By email: key reads (read calls) / writes / deletes",
      `${fixed(lookupKv.reads)} (${fixed(lookupKv.readCalls)}) / ${fixed(lookupKv.writes)} / ${fixed(lookupKv.deletes)}`,
      "",
      "",
    ],
    ["By email: key reads / writes by key prefix", lookupKv.byKey, "", ""],
    ["By email: KV cost per million alerts", dollars(lookupKv.cost), "", ""],
  ];
}

/** The gzipped size `npm run check:bundle` holds the bundle to (scripts/check-bundle.mjs). */
const BUNDLE_BUDGET_BYTES = 128 * 1024;

function bundleRows(bundle) {
  return [
    [`**Bundle**: wrangler deploy --dry-run --outdir (minify ${bundle.minify ? "on" : "off"} in wrangler.jsonc)`, "", "", ""],
    [
      "index.js / gzip -9",
      `${kib(bundle.bytes)} / ${kib(bundle.gzipBytes)}`,
      `≤ ${kib(BUNDLE_BUDGET_BYTES)} gzipped`,
      verdict(bundle.gzipBytes <= BUNDLE_BUDGET_BYTES),
    ],
    [
      "Largest parts (minified, esbuild metafile)",
      bundle.parts
        .slice(0, 4)
        .map((p) => `${p.name} ${kib(p.bytes)}`)
        .join(", "),
      "",
      "",
    ],
  ];
}

const spread = (t) => `${ms(t.median)} (${ms(t.min)} – ${ms(t.max)}, ${t.runs} runs)`;

/** Rows of the startup section: cold starts under wrangler dev, and the startup phase's CPU. */
function startupRows(startup) {
  const { relay, bare, relayCpu, bareCpu } = startup;
  return [
    ["**Startup**: median (least – most)", "", "", ""],
    ["New `wrangler dev` to the first 200 on /healthz: relay", spread(relay), "", ""],
    ["New `wrangler dev` to the first 200 on /healthz: bare Worker", spread(bare), "", ""],
    ["Relay − bare Worker, medians", ms(relay.median - bare.median), "", ""],
    ["Startup phase CPU in workerd (`wrangler check startup`, non-idle profile time): relay", spread(relayCpu), "", ""],
    ["Startup phase CPU in workerd: bare Worker", spread(bareCpu), "", ""],
  ];
}

const seconds = (n) => (Number.isFinite(n) ? `${(n / 1000).toFixed(1)} s` : "n/a");
const routeCalls = (calls) => `${calls.create} / ${calls.list} / ${calls.devices} / ${calls.quota ?? 0}`;

/** How many of the planned alerts were measured, and what happened to the others. */
function latencyCount(phase) {
  const refused = Object.entries(phase.refused).map(([status, n]) => `${n} refused (${status})`);
  const missed = phase.missed > 0 ? [`**${phase.missed} missed** (no command within the timeout)`] : [];
  const notSent = phase.planned - phase.sent;
  const unsent = notSent > 0 ? [`${notSent} not sent (${phase.stoppedBy})`] : [];
  return [`${phase.times.length} of ${phase.planned}`, ...missed, ...refused, ...unsent].join(", ");
}

/** Rows of the alert-to-command section. */
function latencyRows(latency, settings) {
  const { clean, faulted, goalSeconds } = latency;
  const goalMs = goalSeconds * 1000;
  const allMeasured = faulted.times.length === faulted.planned;
  const met = allMeasured && faulted.max <= goalMs;
  const cell = (phase) => `${seconds(phase.p50)} / ${seconds(phase.p99)} (${seconds(phase.max)})`;
  return [
    [`**Alert to command**: alerts naming their device, one at a time; the stand-in's created_date − when the alert left`, "", "", ""],
    ["DEX API answering at once: p50 / p99 (max)", cell(clean), "", ""],
    ["DEX API answering at once: alerts measured", latencyCount(clean), "", ""],
    [
      `Two transient 500s before each create (${JSON.stringify(latency.faults)} queued): p50 / p99 (max)`,
      cell(faulted),
      `≤ ${goalSeconds} s for every alert`,
      verdict(met),
    ],
    ["Two transient 500s: alerts measured", latencyCount(faulted), `${faulted.planned} of ${faulted.planned}`, verdict(allMeasured)],
    [
      "Two transient 500s: DEX calls in the phase, create / list / devices / quota; faults still queued when a command appeared",
      `${routeCalls(faulted.calls)}; ${faulted.faultsLeft}`,
      "",
      "",
    ],
    [
      "Phase durations: no faults; two 500s",
      `${fixed(clean.seconds, 0)} s; ${fixed(faulted.seconds, 0)} s (budget: no alert sent after ${settings.latencyBudgetSeconds} s)`,
      "",
      "",
    ],
  ];
}

/** Rows of the DEX-calls-per-command section. */
function pollRows(polls) {
  const n = Math.max(1, polls.commands);
  const per = (k) => fixed(polls.calls[k] / n);
  const all = (polls.calls.create + polls.calls.list + polls.calls.devices + (polls.calls.quota ?? 0)) / n;
  const finished = polls.finished ? `all finished ${fixed(polls.finishedSeconds, 0)} s after the first alert` : "**not all finished within the timeout**";
  return [
    [
      `**DEX calls per command, status polls included**: ${polls.alerts} alerts naming ${polls.users} users by email, counted until ${polls.marginSeconds} s after every command finished`,
      "",
      "",
      "",
    ],
    ["Alerts acknowledged / refused", `${polls.acknowledged} / ${stormFailures(polls)}`, "", ""],
    ["Commands created", `${polls.commands} (${finished})`, `${polls.expectedCommands}`, verdict(polls.commands === polls.expectedCommands)],
    ["Calls: create / list / devices / quota", routeCalls(polls.calls), "", ""],
    ["Per command: create / list / devices / quota", `${per("create")} / ${per("list")} / ${per("devices")} / ${per("quota")}`, "", ""],
    ["Per command: all four", fixed(all), "", ""],
    [
      `Calls after the last command finished (the ${polls.marginSeconds} s margin): create / list / devices / quota`,
      routeCalls(polls.callsAfterFinish),
      "",
      "",
    ],
  ];
}

const STRATEGY_NAMES = { auto: "auto", search: "per-device searches only" };

/** Rows of the fleet section: per fleet size, the relay's choice of read against per-device searches alone. */
function fleetRows(fleet) {
  const rows = [];
  for (const size of [...new Set(fleet.cases.map((c) => c.size))]) {
    const cases = fleet.cases.filter((c) => c.size === size);
    const auto = cases.find((c) => c.strategy === "auto");
    const search = cases.find((c) => c.strategy === "search");
    const each = (cell) => cases.map((c) => `${STRATEGY_NAMES[c.strategy] ?? c.strategy}: ${cell(c)}`).join("; ");
    const perCommand = (c) => {
      const n = Math.max(1, c.commands);
      const devices = c.deviceReads.search + c.deviceReads.list;
      return `${fixed(devices / n)} (${fixed(c.deviceReads.list / n)} list + ${fixed(c.deviceReads.search / n)} search) / ${fixed(c.calls.create / n)} / ${fixed(c.calls.list / n)} / ${fixed(c.calls.quota / n)}`;
    };
    const allCalls = (c) => c.calls.create + c.calls.list + c.calls.devices + c.calls.quota;
    rows.push(
      [
        `**A ${fleet.alerts}-alert Alertmanager group naming ${fleet.alerts} of ${integer(size)} devices**, each alert one laptop by host name, on a relay with empty state`,
        "",
        "",
        "",
      ],
      [
        "Commands created (duplicates)",
        each((c) => `${c.commands} (${c.duplicates})`),
        `${fleet.alerts} (0)`,
        verdict(cases.every((c) => c.commands === fleet.alerts && c.duplicates === 0)),
      ],
      ["Devices endpoint: pages of the list read / searches", each((c) => `${c.deviceReads.list} / ${c.deviceReads.search}`), "", ""],
      ["DEX calls per command: devices (list + search) / create / list / quota", each(perCommand), "", ""],
      [
        "Calls answered 429 by the stand-in (the API's 1,200 per 5 minutes)",
        each((c) => `${c.rateLimited}`),
        "0",
        verdict(cases.every((c) => c.rateLimited === 0)),
      ],
      [
        "First / last command after the group was sent",
        each((c) => `${fixed(c.firstCommandSeconds ?? NaN, 1)} s / ${fixed(c.lastCommandSeconds ?? NaN, 1)} s${c.complete ? "" : " (**incomplete**)"}`),
        "",
        "",
      ],
    );
    if (auto && search) {
      const ratio = (a, b) => (b > 0 ? fixed(a / b) : "n/a");
      rows.push(
        // Auto may spend one call more than searching: the first page of the list, which tells the fleet's size.
        [
          "Auto ÷ per-device searches: device calls; all DEX calls; time to the last command",
          `${ratio(auto.calls.devices, search.calls.devices)}; ${ratio(allCalls(auto), allCalls(search))}; ${ratio(auto.lastCommandSeconds ?? NaN, search.lastCommandSeconds ?? NaN)}`,
          "device calls ≤ searches' + 1",
          verdict(auto.calls.devices <= search.calls.devices + 1),
        ],
      );
    }
  }
  return rows;
}

/** The whole report, as Markdown. Sections that did not run (BENCH_ONLY) are left out. */
export function renderReport({ machine, startedAt, totalSeconds, settings, bundle, startup, direct, lookup, load, latency, polls, fleet, notes }) {
  const rows = [
    ...(load ? ingestRows(load, settings) : []),
    ...(direct && lookup ? stormRows(direct, lookup) : []),
    ...(latency ? latencyRows(latency, settings) : []),
    ...(polls ? pollRows(polls) : []),
    ...(fleet ? fleetRows(fleet) : []),
    ...(bundle ? bundleRows(bundle) : []),
    ...(startup ? startupRows(startup) : []),
  ];
  const measured = [
    `Every Worker runs locally in workerd under \`wrangler dev\`, from the bundle \`wrangler deploy --dry-run\` builds, with its own empty \`--persist-to\` state. Bindings come only from \`--var\`: \`.dev.vars\` is not read (\`--env-file\` points at an empty file) and the relay's binding names are removed from the environment wrangler sees.`,
    ...(load
      ? [
          `Ingest: every request is a Zapier alert with its own id, for one of three users. Four targets: the relay as configured; the same bundle with wrangler.jsonc's queues.consumers left out, so that no consumer batch runs in its workerd (under wrangler dev the queue and its consumer share the workerd that receives alerts, and while a batch is worked the alerts arriving wait; in production the queue is a separate service); the bare Worker + queue.send; and the bare Worker. Capacity: autocannon in this process with ${settings.connections} connections, ${settings.warmupSeconds} s warm-up per target, then ${settings.rounds} rounds of ${settings.segmentSeconds} s segments in the order relay, without consumer, bare + queue.send, bare, bare, bare + queue.send, without consumer, relay; alerts/s counts 2xx answers over the measured seconds. Latency: one such round at the fixed rate shown, requests evenly spaced, each timed from when it left. Before each segment the relays and the bare + queue.send Worker are left to go quiet (the relay's consumer works off what the previous segment queued).`,
        ]
      : []),
    `wrangler dev puts a proxy Worker in front of every Worker, and emulates Queues and KV locally; here they share two cores with the Workers and with the load generator, which production does not. Compare relay with bare from the same run, not with numbers from elsewhere.`,
    ...(load
      ? [
          `The bare Worker (bench/bare-worker) is Hono answering 202 after reading the body, with the relay's compatibility date.`,
          `The bare Worker + queue.send (bench/bare-queue-worker) is the same plus one \`queue.send\` per alert (a delivery id, a timestamp and the body, as JSON) to a queue with no consumer, like the relay without its consumer. Relay without consumer ÷ bare = (bare + queue.send ÷ bare) × (relay without consumer ÷ bare + queue.send): the first factor is what the local Queue emulation costs, the second what the relay's own code costs.`,
        ]
      : []),
    ...(direct
      ? [
          `DEX calls and device lookups are the DEX stand-in's own per-endpoint counters, reset before each storm; a storm is over when neither they nor the KV counts change for 5 s.`,
          `KV operations are counted by bench/kv-counted, the relay's entry with RELAY_KV wrapped in a counter, driven by the two storms above. Reads are counted per key, a bulk get of k keys as k reads (the cautious reading of KV's per-key billing; read calls in parentheses). The counts include ingest, the consumer and the delivery record, and per-batch work shared by the storm's alerts.`,
          `KV prices: $${KV_PRICES.read.toFixed(2)} per million reads, $${KV_PRICES.write.toFixed(2)} per million writes, deletes and lists (Workers Paid list prices, beyond the ${KV_INCLUDED} included).`,
        ]
      : []),
    ...(latency
      ? [
          `Alert to command: against the relay (not the KV-counted one). Each alert is a Zapier alert naming one eligible registration (in turn) and is sent only once the previous alert's command is on the stand-in (or its ${settings.latencyAlertTimeoutSeconds} s timeout passed: missed), 0.5 s later; the stand-in is polled every 0.1 s. The time is the command's created_date on the stand-in minus when the alert left this process, both on this machine's clock. The second phase clears the stand-in's faults and queues ${JSON.stringify(latency.faults)} on its fault switch (POST /__faults) before each alert: the first two create calls answer HTTP 500 and create nothing. An alert is missed if no command appears within the timeout, and its device is not used again in that phase (its late command must not be taken for another alert's). No alert is sent once a phase has run ${settings.latencyBudgetSeconds} s. Percentiles are nearest-rank over the alerts measured; the first sighting trailed created_date by at most ${fixed(Math.max(latency.clean.maxSeenLag, latency.faulted.maxSeenLag) / 1000, 1)} s.`,
        ]
      : []),
    ...(polls
      ? [
          `DEX calls per command: against the relay. One storm of ${polls.alerts} Zapier alerts naming users by email only (so the relay looks their devices up), from a reset stand-in; then the stand-in is read until it holds every expected command (or none has appeared for 15 s) and lists each as finished (it completes a command 20 s after creating it), then ${polls.marginSeconds} s more for the relay's last status polls, all within ${settings.pollTimeoutSeconds} s. The calls are the stand-in's own counters per endpoint (create = POST /dex/commands, list = GET /dex/commands, devices = GET /dex/commands/devices, quota = GET /dex/commands/quota), divided by the commands created.`,
        ]
      : []),
    ...(startup
      ? [
          `Startup: before any other Worker of the run is started, each cold start is a new \`wrangler dev\` serving the prebuilt bundle with empty state, timed from just before the process is spawned until GET /healthz answers 200 (polled every 20 ms); it stops before the next one starts, the relay and the bare Worker taking turns so that other work on the machine weighs on both alike. The relay runs with the run's bindings, so its /healthz checks the whole configuration (DEX settings, RULES, sources); the bare Worker's /healthz answers at once. Most of that time is wrangler and workerd starting, which the bare Worker pays too: the difference of the medians is what the relay adds. The startup phase CPU is the non-idle time of the CPU profile \`wrangler check startup\` records while workerd evaluates the Worker's global scope (a build of its own from the sources), which it prints as Active; the profile samples about once a millisecond, so a startup shorter than that reads 0. The 1-minute load average at the end of the section was ${fixed(startup.loadAverage)}.`,
        ]
      : []),
  ];
  if (fleet) {
    measured.push(
      `Fleet: the DEX stand-in of this section alone holds the API's own rate limit (1,200 calls per rolling 5 minutes, then a 5-minute lockout) and a generated fleet (POST /__fleet, dev/dex-stand-in/fleet.ts). For each fleet size, ${fleet.alerts} eligible laptops spread evenly over the fleet are named by host name in one Alertmanager group of firing, critical alerts (one warp-diag each), sent in one request to a relay started for that case alone, with empty KV and an empty command ledger (so neither a cached device list, nor a known fleet size, nor a spent API budget carries over), once with DEVICE_LOOKUP = auto and once with DEVICE_LOOKUP = search (per-device searches only, the baseline). MAX_COMMANDS_PER_MINUTE is ${settings.fleetMaxCommandsPerMinute}, the most the relay accepts, so that the case ends in about a minute: one source may have three quarters of a minute's commands (${Math.max(1, settings.fleetMaxCommandsPerMinute - Math.floor(settings.fleetMaxCommandsPerMinute / 4))}), and a group of more commands than that sends the rest a minute after its first. The stand-in's counters are reset before each case and read when it holds a command per laptop (or none has appeared for 90 s, or ${settings.fleetTimeoutSeconds} s passed): list = GET /dex/commands (the ledger's reconciles and status polls, which the ledger makes every 20 s while commands are unfinished, so they grow with the time to the last command). Times are the newest and oldest command's created_date on the stand-in minus when the group was sent.`,
    );
  }
  const table = ["| Measure | Result | Goal | |", "| --- | --- | --- | --- |", ...rows.map((cells) => `| ${cells.join(" | ")} |`)].join("\n");

  return `# dex-alert-relay benchmark

${startedAt.toISOString()} · ${machine.cpu} · ${machine.cores} cores · ${machine.memoryGiB} GiB · Node ${machine.node} · wrangler ${machine.wrangler} · workerd ${machine.workerd} · ${fixed(totalSeconds, 0)} s

${table}

How it was measured:
${measured.map((line) => `- ${line}`).join("\n")}
${notes.map((note) => `- ${note}`).join("\n")}
`;
}
