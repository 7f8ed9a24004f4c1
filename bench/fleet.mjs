// A big Alertmanager group against a big fleet: one group of N alerts, each naming one laptop
// of a fleet the DEX stand-in generates, sent to a relay that starts from empty state. What it
// costs in DEX calls by endpoint, how long until the last command exists, and how many calls
// the stand-in (holding the API's own rate limit) refused with a 429, which must be none.
import { setTimeout as sleep } from "node:timers/promises";
import { getJson, post } from "./storms.mjs";

const ALERTMANAGER_PATH = "/v1/alerts/alertmanager";
const POLL_MS = 500;
/** The per-minute cap lets a source's next commands go a minute after its first: wait past that. */
const NO_NEW_COMMAND_MS = 90_000;
const PAGE = 50;

/**
 * `count` eligible laptops of the stand-in's fleet, spread evenly over it, read from its
 * devices list (the calls are counted, so the caller resets the stand-in afterwards).
 */
export async function fleetLaptops(standIn, dexToken, count) {
  const first = await listPage(standIn, dexToken, 1);
  const pages = first.result_info.total_pages;
  const all = [...first.result.devices];
  for (let page = 2; page <= pages; page++) all.push(...(await listPage(standIn, dexToken, page)).result.devices);
  // One registration per machine, generated fleet only (`f1ee7…` ids), laptops and desktops only.
  const seen = new Set();
  const laptops = all.filter((d) => {
    const first = !seen.has(d.deviceId);
    seen.add(d.deviceId);
    return first && d.eligible && d.deviceId.startsWith("f1ee7");
  });
  if (laptops.length < count) throw new Error(`the fleet has ${laptops.length} eligible laptops, fewer than the ${count} the group names`);
  const step = laptops.length / count;
  return Array.from({ length: count }, (_, i) => laptops[Math.floor(i * step)]);
}

async function listPage(standIn, dexToken, page) {
  const url = `${standIn.url}client/v4/accounts/bench/dex/commands/devices?per_page=${PAGE}&page=${page}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${dexToken}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`the DEX stand-in's devices list answered ${res.status}`);
  return res.json();
}

/** One Alertmanager notification: a firing, critical alert per laptop, named by its host name. */
function groupOf(laptops, runId) {
  const startsAt = new Date().toISOString();
  return {
    version: "4",
    status: "firing",
    receiver: "dex-alert-relay",
    groupLabels: { alertname: "WarpTunnelPacketLoss" },
    commonLabels: { alertname: "WarpTunnelPacketLoss", severity: "critical" },
    commonAnnotations: {},
    externalURL: "http://alertmanager.example.com:9093",
    alerts: laptops.map((laptop, i) => ({
      status: "firing",
      labels: { alertname: "WarpTunnelPacketLoss", severity: "critical", hostname: laptop.deviceName },
      annotations: { summary: `WARP tunnel packet loss on ${laptop.deviceName}` },
      startsAt,
      endsAt: "0001-01-01T00:00:00Z",
      fingerprint: `${runId}-${i}`,
    })),
  };
}

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
