import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { CounterIncrement } from "../model/metrics";
import { CounterBatch } from "./counter-batch";

const queued = (source: string, by = 1): CounterIncrement => ({ name: "dex_relay_deliveries_received_total", labels: { source, outcome: "queued" }, by });

/** A sink that records each write, and fails the ones `fail` says. */
function recordingSink(fail: (write: number) => boolean = () => false) {
  const writes: CounterIncrement[][] = [];
  const sink = vi.fn(async (_env: Env, increments: CounterIncrement[]) => {
    writes.push(increments);
    if (fail(writes.length)) throw new Error("ledger unreachable");
  });
  return { sink, writes };
}

const ctx = () => ({ waitUntil: vi.fn() });

describe("CounterBatch", () => {
  it("writes at once after a quiet spell, then at most once per interval, with everything added meanwhile merged", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { sink, writes } = recordingSink();
    const batch = new CounterBatch(sink, 200);
    const first = ctx();
    batch.add([queued("zapier")], env, first);
    expect(first.waitUntil).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 50; i++) batch.add([queued(i % 2 ? "zapier" : "datadog"), queued("zapier", 2)], env, ctx());
    await batch.settled();
    expect(writes).toEqual([[queued("zapier")], [queued("datadog", 25), queued("zapier", 25 + 100)]]);
  });

  it("schedules one write while one waits, however many requests come", () => {
    const { sink } = recordingSink();
    const batch = new CounterBatch(sink, 60_000);
    batch.add([queued("zapier")], env, ctx());
    const contexts = Array.from({ length: 20 }, ctx);
    for (const c of contexts) batch.add([queued("zapier")], env, c);
    // The first write went at once; the next waits for the interval, and only one request holds it.
    expect(contexts.filter((c) => c.waitUntil.mock.calls.length > 0)).toHaveLength(1);
  });

  it("keeps the counts of a write that failed for the next one", async () => {
    const problems = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { sink, writes } = recordingSink((n) => n === 1);
    const batch = new CounterBatch(sink, 50);
    batch.add([queued("zapier", 3)], env, ctx());
    await batch.settled();
    batch.add([queued("zapier", 1)], env, ctx());
    await batch.settled();
    expect(writes).toEqual([[queued("zapier", 3)], [queued("zapier", 4)]]);
    expect(problems).toHaveBeenCalledWith(expect.stringContaining('"event":"metrics-write-failed"'));
  });

  it("writes nothing when nothing was added", async () => {
    const { sink } = recordingSink();
    const batch = new CounterBatch(sink, 50);
    const c = ctx();
    batch.add([], env, c);
    await batch.settled();
    expect(sink).not.toHaveBeenCalled();
    expect(c.waitUntil).not.toHaveBeenCalled();
  });
});
