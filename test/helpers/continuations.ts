import { runInDurableObject } from "cloudflare:test";
import { advanceClock, ledger, runLedgerAlarm, unsettledCommands } from "./ledger";
import { runConsumer, type Continuation } from "./relay";

/**
 * Plays the queue and the runtime on the faked clock until nothing is left to do: the
 * consumer runs `bodies`, then every continuation it queues once its delay has passed, and
 * the command ledger's alarms run in between, in time order, until no continuation is
 * queued and the ledger has no unsettled command. Returns the continuations, and what each
 * consumer run returned.
 */
export async function consumeUntilSettled(bodies: readonly unknown[], overrides: Partial<Record<keyof Env, unknown>> = {}, maxSteps = 400) {
  const queued: Array<Continuation & { at: number }> = [];
  const continued: Continuation[] = [];
  const runs: Array<Awaited<ReturnType<typeof runConsumer>>> = [];
  const consume = async (batch: readonly unknown[]) => {
    const result = await runConsumer(batch, 1, overrides);
    runs.push(result);
    for (const c of result.continued) queued.push({ ...c, at: Date.now() + c.delaySeconds * 1000 });
    continued.push(...result.continued);
  };
  await consume(bodies);
  for (let step = 0; step < maxSteps; step++) {
    const next = queued.length > 0 ? Math.min(...queued.map((c) => c.at)) : undefined;
    const alarm = await runInDurableObject(ledger(), (_, state) => state.storage.getAlarm());
    if (next === undefined && (alarm === null || (await unsettledCommands()) === 0)) return { continued, runs };
    if (next !== undefined && (alarm === null || next <= alarm)) {
      if (next > Date.now()) advanceClock(next - Date.now());
      const due = queued.filter((c) => c.at <= Date.now());
      queued.splice(0, queued.length, ...queued.filter((c) => c.at > Date.now()));
      await consume(due.map((c) => c.body));
    } else {
      await runLedgerAlarm();
    }
  }
  throw new Error(`still not settled after ${maxSteps} steps`);
}
