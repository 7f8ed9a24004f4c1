// Sending alerts: a fixed storm of bodies (for counting what one storm costs), and the
// comparison of the relay with the bare Worker under the same load: capacity with
// autocannon, latency with evenly paced requests.
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { waitUntilQuiet } from "./servers.mjs";

export const ALERTS_PATH = "/v1/alerts/zapier";
/** Users the load alerts name: few, so device lookups repeat and the cache can serve them. */
const LOAD_USERS = ["jane.doe@example.com", "sam.lee@example.com", "priya.shah@example.com"];
/** A single request of a storm that has not answered by then is counted as failed. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Posts each body once, with at most `concurrency` requests in flight. Resolves with how
 * many were acknowledged (2xx) and the status of every other answer.
 */
export async function sendStorm(baseUrl, token, bodies, { concurrency = 10 } = {}) {
  const outcome = { acknowledged: 0, failures: {} };
  let next = 0;
  async function worker() {
    while (next < bodies.length) {
      const body = bodies[next++];
      let status;
      try {
        const res = await fetch(baseUrl + ALERTS_PATH, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        status = res.ok ? "ok" : String(res.status);
      } catch (error) {
        status = error.name === "TimeoutError" ? "timeout" : "connection error";
      }
      if (status === "ok") outcome.acknowledged++;
      else outcome.failures[status] = (outcome.failures[status] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
  return outcome;
}

/**
 * One round: each target twice, in mirrored order, so drift within the round (other work
 * on the machine, which comes and goes) weighs on every target alike.
 */
const ROUND = ["relay", "ingest", "bareQueue", "bare", "bare", "bareQueue", "ingest", "relay"];

/**
 * The relay, the relay without its queue consumer (`ingest`), the bare Worker plus one
 * queue.send per alert (`bareQueue`, also without a consumer) and the bare Worker under
 * identical load, in two phases.
 *
 * Capacity: `connections` autocannon clients send as fast as answers come, after a warm-up
 * of each target, in `rounds` rounds. Latency here is mostly queueing: latency ≈ clients ÷ rate.
 *
 * Latency: one round at a fixed rate, half of the slowest target's capacity, requests spread
 * evenly over each second (autocannon's rate limit sends each second's requests in one
 * burst), so the figure is the time to the 202 rather than time in line.
 *
 * Before each segment the queue producers' processes must be quiet: the relay's queue consumer
 * works off what the last segment queued, and would otherwise take the CPU from the next.
 */
export async function compareUnderLoad({ relay, ingest, bare, bareQueue, token, runId, connections, warmupSeconds, segmentSeconds, rounds, cpuShare, log }) {
  let sequence = 0;
  const body = () => {
    const n = sequence++;
    return JSON.stringify({
      id: `${runId}-load-${n}`,
      title: `Bench load: VPN packet loss (${n})`,
      severity: "critical",
      user_email: LOAD_USERS[n % LOAD_USERS.length],
    });
  };
  const targets = { relay, ingest, bare, bareQueue };
  const saturate = (server, seconds) =>
    autocannon({
      url: server.url.replace(/\/$/, ""),
      connections,
      duration: seconds,
      skipAggregateResult: true,
      requests: [
        {
          method: "POST",
          path: ALERTS_PATH,
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          // A fresh episode per request: identical bodies would all be one alert.
          setupRequest: (request) => ({ ...request, body: body() }),
        },
      ],
    });
  const settle = () => Promise.all([waitUntilQuiet(relay), waitUntilQuiet(ingest), waitUntilQuiet(bareQueue)]);
  // How long the relay's consumer kept its processes busy after each measured relay segment.
  const drains = [];
  const cpu = cpuShare();
  const measure = async (phase, order, send) => {
    const results = { relay: [], ingest: [], bare: [], bareQueue: [] };
    for (const name of order) {
      await settle();
      cpu.start();
      const result = await send(targets[name]);
      cpu.stop();
      results[name].push(result);
      log(`${phase} ${name}: ${describeSegment(result)}`);
      if (name === "relay") drains.push(await waitUntilQuiet(relay));
    }
    return results;
  };

  await measure("warm-up", ["relay", "ingest", "bareQueue", "bare"], (server) => saturate(server, warmupSeconds));
  drains.length = 0;
  const capacityOrder = Array.from({ length: rounds }, () => ROUND).flat();
  const capacity = await measure("capacity", capacityOrder, (server) => saturate(server, segmentSeconds));
  const perSecond = (results) => results.reduce((n, r) => n + r["2xx"], 0) / results.reduce((t, r) => t + r.duration, 0);
  // Each round's own ratios: how much the estimate moves with the machine's other work.
  const roundRatios = Array.from({ length: rounds }, (_, k) => {
    const round = (name) => perSecond(capacity[name].slice(2 * k, 2 * k + 2));
    return {
      relay: round("relay") / round("bare"),
      ingest: round("ingest") / round("bare"),
      ingestToBareQueue: round("ingest") / round("bareQueue"),
    };
  });
  const saturated = Object.fromEntries(Object.entries(capacity).map(([name, results]) => [name, summarize(results, targets[name].url, connections)]));

  const rate = Math.max(1, Math.floor(Math.min(...Object.values(saturated).map((t) => t.perSecond)) / 2));
  const paced = await measure(`${rate}/s`, ROUND, (server) => sendPaced(server, { token, rate, seconds: segmentSeconds, body }));
  return {
    ...saturated,
    roundRatios,
    paced: { rate, ...Object.fromEntries(Object.entries(paced).map(([name, segments]) => [name, mergePaced(segments)])) },
    drains,
    otherCpu: cpu.otherShare(),
  };
}

/** One line of progress about a segment, autocannon's or paced. */
function describeSegment(result) {
  if (Array.isArray(result.latencies)) {
    const sorted = [...result.latencies].sort((a, b) => a - b);
    return `${sorted.length} answered, median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(1)} ms`;
  }
  return `${result["2xx"]} acknowledged in ${result.duration} s (${Math.round(result["2xx"] / result.duration)}/s), ${result.non2xx} non-2xx`;
}

/** One target's autocannon segments as one result: acknowledged per second and latency over all. */
function summarize(results, url, connections) {
  const merged = autocannon.aggregateResult(results, { url, connections });
  const seconds = results.reduce((sum, r) => sum + r.duration, 0);
  const statuses = Object.fromEntries(
    Object.entries(merged.statusCodeStats)
      .filter(([code]) => !code.startsWith("2"))
      .map(([code, { count }]) => [code, count]),
  );
  return {
    seconds,
    acknowledged: merged["2xx"],
    perSecond: merged["2xx"] / seconds,
    nonSuccess: merged.non2xx,
    statuses,
    connectionErrors: merged.errors,
    timeouts: merged.timeouts,
    p50: merged.latency.p50,
    p99: merged.latency.p99,
    max: merged.latency.max,
  };
}

/**
 * Sends `rate` requests a second for `seconds`, each at its own moment (i / rate), whether
 * or not earlier ones have been answered, and times each from the moment it left.
 */
async function sendPaced(server, { token, rate, seconds, body }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(ALERTS_PATH, server.url);
  const segment = { latencies: [], nonSuccess: 0, statuses: {}, connectionErrors: 0, timeouts: 0 };
  const pending = [];
  const started = performance.now();
  try {
    for (let i = 0; i < rate * seconds; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      pending.push(
        post(url, agent, token, body()).then(
          ({ status, ms }) => {
            segment.latencies.push(ms);
            if (status < 200 || status > 299) {
              segment.nonSuccess++;
              segment.statuses[status] = (segment.statuses[status] ?? 0) + 1;
            }
          },
          (error) => {
            segment.connectionErrors++;
            if (error.name === "TimeoutError") segment.timeouts++;
          },
        ),
      );
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  return segment;
}

/** Paced segments of one target as one result, with exact percentiles over every request. */
function mergePaced(segments) {
  const latencies = segments.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const statuses = {};
  for (const s of segments) for (const [code, n] of Object.entries(s.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const sum = (key) => segments.reduce((n, s) => n + s[key], 0);
  const at = (q) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]);
  return {
    samples: latencies.length,
    nonSuccess: sum("nonSuccess"),
    statuses,
    connectionErrors: sum("connectionErrors"),
    timeouts: sum("timeouts"),
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? NaN,
  };
}

function post(url, agent, token, payload) {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          authorization: `Bearer ${token}`,
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve({ status: res.statusCode, ms: performance.now() - sent }));
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(payload);
  });
}
