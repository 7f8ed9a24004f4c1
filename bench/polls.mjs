// DEX calls per command over a command's whole life: the creates, the device lookups and
// the status polls (`GET /dex/commands`) the relay makes until every command of a storm has
// finished, read from the DEX stand-in's per-endpoint counters.
import { setTimeout as sleep } from "node:timers/promises";
import { sendStorm } from "./load.mjs";
import { getJson, post } from "./storms.mjs";

const POLL_MS = 500;
/** Fewer commands than expected: the storm is taken as over once none has appeared for this long. */
const NO_NEW_COMMAND_MS = 15_000;

/**
 * Sends `count` alerts naming eligible users by email only (so the relay looks their devices
 * up), in turn, as one storm. Waits until the stand-in has every expected command and calls
 * each of them finished (it completes a command 20 s after creating it), then `marginMs`
 * more for the relay's last polls, all within `timeoutMs` of the first alert. Resolves with
 * the stand-in's call counts when the last command finished and at the end.
 */
export async function measureCallsPerCommand({ standIn, relay, token, registrations, runId, count, marginMs, timeoutMs }) {
  await post(`${standIn.url}__reset`);
  const users = [...new Set(registrations.map((r) => r.personEmail))];
  const alerts = Array.from({ length: count }, (_, i) => {
    const email = users[i % users.length];
    return { id: `${runId}-polls-${i}`, title: `Bench polls: VPN packet loss for ${email}`, severity: "critical", user_email: email };
  });
  const expectedCommands = alerts.reduce((n, a) => n + registrations.filter((r) => r.personEmail === a.user_email).length, 0);

  const started = Date.now();
  const deadline = started + timeoutMs;
  const sent = await sendStorm(relay.url.replace(/\/$/, ""), token, alerts);

  let summary = await getJson(standIn.url);
  let commands = summary.commands.length;
  let lastNewCommand = Date.now();
  let finishedAt;
  while (Date.now() < deadline) {
    summary = await getJson(standIn.url);
    if (summary.commands.length !== commands) {
      commands = summary.commands.length;
      lastNewCommand = Date.now();
    }
    const allIn = commands >= expectedCommands || Date.now() - lastNewCommand >= NO_NEW_COMMAND_MS;
    if (commands > 0 && allIn && summary.commands.every((c) => c.completed_date !== null)) {
      finishedAt = Date.now();
      break;
    }
    await sleep(POLL_MS);
  }
  const atFinish = summary.calls;
  await sleep(Math.max(0, Math.min(marginMs, deadline - Date.now())));
  const final = await getJson(standIn.url);
  return {
    alerts: count,
    users: users.length,
    ...sent,
    expectedCommands,
    commands: final.commands.length,
    finished: finishedAt !== undefined,
    finishedSeconds: finishedAt === undefined ? undefined : (finishedAt - started) / 1000,
    marginSeconds: marginMs / 1000,
    calls: final.calls,
    callsAfterFinish: Object.fromEntries(Object.entries(final.calls).map(([route, n]) => [route, n - (atFinish[route] ?? 0)])),
  };
}
