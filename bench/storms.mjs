// Alert storms against the KV-counted relay: what one storm costs in DEX API calls, device
// lookups and KV operations, read from the DEX stand-in's call counters and the relay's KV
// counters once the queue consumer has finished.
import { setTimeout as sleep } from "node:timers/promises";
import { sendStorm } from "./load.mjs";

/** The consumer is done once nothing has changed for this long (its batch timeout is 2 s). */
const STABLE_MS = 5_000;
/** ...or, when fewer commands than expected appeared, for this long. */
const STABLE_SHORT_MS = 15_000;
/** No storm waits longer than this for the consumer. */
const DRAIN_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/**
 * The registrations the stand-in would run a command on, as its devices endpoint lists
 * them: read from the stand-in rather than copied, so the benchmark follows its seed.
 */
export async function eligibleRegistrations(standIn, dexToken) {
  const url = `${standIn.url}client/v4/accounts/bench/dex/commands/devices?per_page=50`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${dexToken}` }, signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`the DEX stand-in's devices endpoint answered ${res.status}`);
  const { result } = await res.json();
  const eligible = result.devices.filter((d) => d.eligible && d.personEmail);
  if (eligible.length === 0) throw new Error("the DEX stand-in lists no eligible device");
  return eligible;
}

/** N alerts, each naming its device outright (device_id + user_email), checked against the devices API (one lookup per user). */
export function directTargetAlerts(count, registrations, runId) {
  return Array.from({ length: count }, (_, i) => {
    const device = registrations[i % registrations.length];
    return {
      id: `${runId}-direct-${i}`,
      title: `Bench storm: VPN tunnel down on ${device.deviceName}`,
      severity: "critical",
      device_id: device.deviceId,
      user_email: device.personEmail,
      registration_id: device.registrationId,
    };
  });
}

/** M alerts about one user, by email only: the relay has to look the devices up. */
export function sameUserAlerts(count, email, runId) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${runId}-lookup-${i}`,
    title: `Bench storm: VPN packet loss for ${email}`,
    severity: "critical",
    user_email: email,
  }));
}

/**
 * Sends one storm from a clean slate (stand-in and KV counters reset) and waits for the
 * consumer to finish it. Resolves with what the stand-in and KV saw.
 */
export async function measureStorm({ standIn, relay, token, alerts, expectedCommands }) {
  await post(`${standIn.url}__reset`);
  await post(`${relay.url}__bench/kv/reset`);
  const started = Date.now();
  const sent = await sendStorm(relay.url.replace(/\/$/, ""), token, alerts);
  const drained = await waitForConsumer(standIn, relay, started, expectedCommands);
  return { alerts: alerts.length, ...sent, ...drained };
}

/**
 * Polls the stand-in and the KV counters until neither has changed for STABLE_MS (with
 * the expected commands in), or STABLE_SHORT_MS (without), bounded by DRAIN_TIMEOUT_MS.
 */
async function waitForConsumer(standIn, relay, started, expectedCommands) {
  let last;
  let lastChange = Date.now();
  while (Date.now() - started < DRAIN_TIMEOUT_MS) {
    const [dex, kv] = await Promise.all([getJson(standIn.url), getJson(`${relay.url}__bench/kv`)]);
    const now = { commands: dex.commands.length, calls: dex.calls, kv };
    if (JSON.stringify(now) !== JSON.stringify(last)) {
      last = now;
      lastChange = Date.now();
    }
    const quietFor = Date.now() - lastChange;
    if (quietFor >= STABLE_MS && (now.commands >= expectedCommands || quietFor >= STABLE_SHORT_MS)) {
      return { ...last, drained: true, lastChangeSeconds: (lastChange - started) / 1000 };
    }
    await sleep(POLL_MS);
  }
  return { ...last, drained: false, lastChangeSeconds: (lastChange - started) / 1000 };
}

/** GET a bench or stand-in endpoint as JSON; anything but a 2xx is an error. */
export async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.json();
}

/** POST (or another method) to a bench or stand-in endpoint, with an optional JSON body. */
export async function post(url, body, method = "POST") {
  const json = body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(url, { method, ...json, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
}
