// A big Alertmanager group against a big fleet: one group of N alerts, each naming one laptop
// of a fleet the DEX stand-in generates, sent to a relay that starts from empty state. What it
// costs in DEX calls by endpoint, how long until the last command exists, and how many calls
// the stand-in (holding the API's own rate limit) refused with a 429, which must be none.
import { setTimeout as sleep } from "node:timers/promises";
import { fleetLaptops, groupOf } from "../scripts/fleet-group.mjs";
import { getJson, post } from "./storms.mjs";

export { fleetLaptops };

const ALERTMANAGER_PATH = "/v1/alerts/alertmanager";
const POLL_MS = 500;
/** The per-minute cap lets a source's next commands go a minute after its first: wait past that. */
const NO_NEW_COMMAND_MS = 90_000;

/**
 * Sends the group to a relay started for this case alone (`startRelay`, stopped after), from
 * a reset stand-in, and waits until it holds a command per laptop, or none has appeared for
 * NO_NEW_COMMAND_MS, or `timeoutMs` passed. Resolves with the stand-in's counters then.
 */
export async function measureFleetGroup({ standIn, startRelay, stopRelay, token, laptops, runId, label, timeoutMs }) {
  await post(`${standIn.url}__reset`);
  const relay = await startRelay(label);
  try {
    const sentAt = Date.now();
    const res = await fetch(`${relay.url.replace(/\/$/, "")}${ALERTMANAGER_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(groupOf(laptops, `${runId}-${label}`)),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 202) throw new Error(`the relay answered the group with ${res.status}: ${(await res.text()).slice(0, 300)}`);

    let summary = await getJson(standIn.url);
    let seen = 0;
    let lastNew = Date.now();
    while (Date.now() - sentAt < timeoutMs) {
      summary = await getJson(standIn.url);
      if (summary.commands.length !== seen) {
        seen = summary.commands.length;
        lastNew = Date.now();
      }
      if (seen >= laptops.length || Date.now() - lastNew >= NO_NEW_COMMAND_MS) break;
      await sleep(POLL_MS);
    }
    const created = summary.commands.map((c) => Date.parse(c.created_date));
    const devices = new Set(summary.commands.map((c) => c.device_id));
    return {
      label,
      alerts: laptops.length,
      commands: summary.commands.length,
      duplicates: summary.commands.length - devices.size,
      lastCommandSeconds: created.length > 0 ? (Math.max(...created) - sentAt) / 1000 : undefined,
      firstCommandSeconds: created.length > 0 ? (Math.min(...created) - sentAt) / 1000 : undefined,
      complete: summary.commands.length >= laptops.length,
      calls: summary.calls,
      deviceReads: summary.device_reads,
      rateLimited: summary.rate_limited,
    };
  } finally {
    await stopRelay(relay);
  }
}
