// What starting the relay costs: from a new `wrangler dev` to the first 200 on /healthz
// (beside the bare Worker, which shows what wrangler and workerd take alone), and the CPU
// the Worker's global scope takes in workerd (`wrangler check startup`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runWrangler, stopServers } from "./servers.mjs";

/**
 * Starts each Worker of `targets` `runs` times, each a new `wrangler dev` with empty state,
 * taking turns (relay, bare, relay, ...) so that other work on the machine weighs on both
 * alike: `targets[name](run)` resolves once that Worker answers 200. Times from just before
 * the process is spawned to that answer.
 */
export async function measureColdStarts({ targets, runs }) {
  const times = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, start] of Object.entries(targets)) {
      const began = performance.now();
      const server = await start(run);
      times[name].push(performance.now() - began);
      await stopServers([server]);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, summarize(list)]));
}

/**
 * CPU time of the Worker's startup phase (evaluating its bundle's global scope), from the
 * CPU profile `wrangler check startup` records in workerd: the sampled time that is not idle,
 * which is what it prints as "Active". Sampled every millisecond or so, hence several runs.
 */
export async function measureStartupCpu({ dir, runs, env, runDir, label }) {
  const times = [];
  for (let run = 0; run < runs; run++) {
    const outfile = join(runDir, `${label}-startup-${run}.cpuprofile`);
    // `--cwd`: check startup builds the Worker of the wrangler configuration there (it ignores --config).
    await runWrangler(["check", "startup", "--cwd", dir, "--outfile", outfile], env);
    times.push(activeMilliseconds(JSON.parse(readFileSync(outfile, "utf8"))));
  }
  return summarize(times);
}

/** Non-idle time of a V8 CPU profile, in ms: each sample's time delta, but for `(idle)` ones. */
function activeMilliseconds(profile) {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
  let micros = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) micros += profile.timeDeltas[i] ?? 0;
  });
  return micros / 1000;
}

/** Median (the lower middle of an even count), least and most, in ms. */
function summarize(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return { runs: sorted.length, median: sorted[Math.floor((sorted.length - 1) / 2)], min: sorted[0], max: sorted.at(-1) };
}
