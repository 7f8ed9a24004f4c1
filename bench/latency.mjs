// Alert-to-command time: from sending one alert to the relay until the DEX stand-in holds
// its command, with the API answering at once and with transient create failures queued on
// the stand-in's fault switch before each alert. Alerts go one at a time, so each command's
// create is the only one in flight and the queued faults are certainly its own.
import { setTimeout as sleep } from "node:timers/promises";
import { ALERTS_PATH } from "./load.mjs";
import { getJson, post } from "./storms.mjs";

/** How often the stand-in is asked whether the command is there yet. */
const POLL_MS = 100;
/** Pause between one alert's command appearing and the next alert. */
const GAP_MS = 500;
/** An alert that has not been acknowledged by then counts as refused. */
const SEND_TIMEOUT_MS = 10_000;

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Sends up to `count` alerts, each naming one eligible registration (in turn), one at a time:
 * the next leaves once the previous alert's command is on the stand-in, or after
 * `alertTimeoutMs` (then it is missed). No alert is sent once `budgetMs` have passed since the
 * first. With `faults`, they are queued on the stand-in before each alert, after clearing
 * whatever the previous alert left.
 *
 * The time of an alert is the stand-in's `created_date` of its command minus the moment the
 * alert left: both clocks are this machine's.
 */
export async function measureAlertToCommand({ standIn, relay, token, registrations, runId, label, count, faults, alertTimeoutMs, budgetMs, log }) {
  await post(`${standIn.url}__reset`);
  const known = new Set();
  // A missed alert's message may still be retried by the relay, and its late command must
  // not be taken for a later alert's: its registration is not used again in this phase.
  const tainted = new Set();
  const result = { label, planned: count, sent: 0, times: [], seenAfter: [], missed: 0, refused: {}, stray: 0, faultsLeft: 0, stoppedBy: null };
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    if (Date.now() - started >= budgetMs) {
      result.stoppedBy = "time budget";
      break;
    }
    const usable = registrations.filter((r) => !tainted.has(r.registrationId));
    if (usable.length === 0) {
      result.stoppedBy = "every device has a missed alert";
      break;
    }
    const device = usable[i % usable.length];
    if (faults) {
      await post(`${standIn.url}__faults`, undefined, "DELETE");
      await post(`${standIn.url}__faults`, faults);
    }
    const sentAt = Date.now();
    const status = await sendAlert(relay, token, alertFor(device, `${runId}-${label}-${i}`));
    result.sent++;
    if (status !== "ok") {
      result.refused[status] = (result.refused[status] ?? 0) + 1;
      continue;
    }
    const found = await waitForCommand(standIn, device, known, sentAt + alertTimeoutMs, () => result.stray++);
    if (found) {
      result.times.push(Date.parse(found.command.created_date) - sentAt);
      result.seenAfter.push(found.seenAt - sentAt);
      if (faults) result.faultsLeft += found.faults.create.length;
    } else {
      result.missed++;
      tainted.add(device.registrationId);
    }
    log?.(`${label} ${i + 1}/${count}: ${found ? `${((Date.parse(found.command.created_date) - sentAt) / 1000).toFixed(1)} s` : "missed"}`);
    await sleep(GAP_MS);
  }
  const sorted = [...result.times].sort((a, b) => a - b);
  const dex = await getJson(standIn.url);
  return {
    ...result,
    seconds: (Date.now() - started) / 1000,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
    // How far the first sighting trailed created_date: the polling's own resolution.
    maxSeenLag: Math.max(0, ...result.seenAfter.map((seen, k) => seen - result.times[k])),
    calls: dex.calls,
  };
}

/** A Zapier alert naming its device outright, so no device lookup is timed with it. */
function alertFor(device, id) {
  return {
    id,
    title: `Bench latency: VPN tunnel down on ${device.deviceName}`,
    severity: "critical",
    device_id: device.deviceId,
    user_email: device.personEmail,
    registration_id: device.registrationId,
  };
}

async function sendAlert(relay, token, body) {
  try {
    const res = await fetch(new URL(ALERTS_PATH, relay.url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return res.ok ? "ok" : `HTTP ${res.status}`;
  } catch (error) {
    return error.name === "TimeoutError" ? "timeout" : "connection error";
  }
}

/**
 * Polls the stand-in until a command it has not shown before lands on `device`, or until
 * `deadline`. Any other new command is remembered (so it is never taken for a later alert's)
 * and reported through `onStray`.
 */
async function waitForCommand(standIn, device, known, deadline, onStray) {
  while (Date.now() < deadline) {
    const summary = await getJson(standIn.url);
    const seenAt = Date.now();
    for (const command of summary.commands.toReversed()) {
      if (known.has(command.id)) continue;
      known.add(command.id);
      if (command.device_id === device.deviceId && command.registration_id === device.registrationId) {
        return { command, seenAt, faults: summary.faults };
      }
      onStray();
    }
    await sleep(POLL_MS);
  }
  return undefined;
}
