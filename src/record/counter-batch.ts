import { labelKey, type CounterIncrement } from "../model/metrics";
import { logProblem } from "./log";

/** How long counts gather in one isolate before they are written, at most. */
export const COUNTER_FLUSH_INTERVAL_MS = 5_000;

/** Writes counts where they are kept (the command ledger); throws when it could not. */
export type CounterSink = (env: Env, increments: CounterIncrement[]) => Promise<void>;

/**
 * Counts gathered in memory and written in batches, off the request's path.
 *
 * Why not write each count as it happens: the counters live in the command ledger, one
 * Durable Object per account. One ledger request per webhook would tie every sender's
 * answer to it (or, through `waitUntil`, still cost one Durable Object request per webhook,
 * and put a flood's whole rate on the one object that must keep creating commands during
 * it). Here a request adds to the isolate's batch and returns; a request that finds no write
 * waiting schedules one, in its own `waitUntil`, for one interval after the last write began.
 * So an isolate writes at most once per {@link COUNTER_FLUSH_INTERVAL_MS} (at once, when it
 * has been quiet longer), however many requests it answers, and a request never waits on the
 * ledger. A write takes what is pending when it starts; what comes in while it is in flight
 * waits for the next.
 *
 * What this costs: counts reach `GET /metrics` up to 5 s late, and counts an isolate holds
 * when the runtime evicts it mid-wait are lost (`waitUntil` keeps it for up to 30 s after the
 * response, longer than the wait). A write that fails keeps its counts for the next one.
 */
export class CounterBatch {
  readonly #pending = new Map<string, CounterIncrement>();
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  /** A write is scheduled and has not taken the pending counts yet. */
  #waiting = false;
  /** Writes scheduled or in flight. */
  readonly #writes = new Set<Promise<void>>();

  constructor(
    private readonly sink: CounterSink,
    private readonly intervalMs = COUNTER_FLUSH_INTERVAL_MS,
  ) {}

  add(increments: readonly CounterIncrement[], env: Env, ctx: Pick<ExecutionContext, "waitUntil">): void {
    this.#merge(increments);
    if (this.#waiting || this.#pending.size === 0) return;
    // Clamped: a clock that went back (or a test's) never postpones a write past one interval.
    const wait = Math.min(this.intervalMs, Math.max(0, this.#lastWriteAt + this.intervalMs - Date.now()));
    this.#waiting = true;
    const write = this.#writeAfter(wait, env);
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
    ctx.waitUntil(write);
  }

  /** Settles once no write is scheduled or in flight: for tests, and for a caller that must read its own counts. */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  /** Never rejects: a failed write keeps its counts for the next. */
  async #writeAfter(ms: number, env: Env): Promise<void> {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    this.#waiting = false;
    const increments = [...this.#pending.values()];
    this.#pending.clear();
    this.#lastWriteAt = Date.now();
    try {
      await this.sink(env, increments);
    } catch (error) {
      this.#merge(increments);
      logProblem("metrics-write-failed", { counts: increments.length, error: error instanceof Error ? error.message : String(error) });
    }
  }

  #merge(increments: readonly CounterIncrement[]): void {
    for (const increment of increments) {
      const key = `${increment.name}\n${labelKey(increment.labels)}`;
      const held = this.#pending.get(key);
      this.#pending.set(key, held ? { ...held, by: held.by + increment.by } : { ...increment });
    }
  }
}
