// An Alertmanager group naming laptops of the DEX stand-in's generated fleet: what
// `npm run demo -- group` sends to the local relay, and what `npm run bench`'s fleet section
// measures. The laptops are read from the stand-in's own device list.

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
export function groupOf(laptops, runId) {
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
