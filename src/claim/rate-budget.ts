/**
 * The account-wide budget of commands per minute, and the lockout the DEX API imposes
 * after a 429. One KV read per consumer batch answers both.
 */

/** KV's shortest expiration; a minute's counter is useless after it anyway. */
const COUNTER_TTL_SECONDS = 120;
const LOCKOUT_KEY = "budget:lockout";

export interface BudgetState {
  /** Commands already created in the current minute. */
  usedThisMinute: number;
  /** Set while the API is locking the token out: no call before then. */
  lockedUntil?: Date;
}

export class RateBudget {
  constructor(
    private readonly kv: KVNamespace,
    private readonly now: () => Date,
  ) {}

  private counterKey(): string {
    return `budget:minute:${Math.floor(this.now().getTime() / 60_000)}`;
  }

  async read(): Promise<BudgetState> {
    const values = await this.kv.get<unknown>([this.counterKey(), LOCKOUT_KEY], "json");
    const used = values.get(this.counterKey());
    const locked = values.get(LOCKOUT_KEY);
    const lockedUntil = typeof locked === "string" ? new Date(locked) : undefined;
    return {
      usedThisMinute: typeof used === "number" ? used : 0,
      lockedUntil: lockedUntil && lockedUntil > this.now() ? lockedUntil : undefined,
    };
  }

  /** Records `count` more commands in this minute (consumers run one at a time: no lost update). */
  async spend(state: BudgetState, count: number): Promise<void> {
    if (count <= 0) return;
    state.usedThisMinute += count;
    await this.kv.put(this.counterKey(), JSON.stringify(state.usedThisMinute), { expirationTtl: COUNTER_TTL_SECONDS });
  }

  async lockOut(seconds: number): Promise<Date> {
    const until = new Date(this.now().getTime() + seconds * 1000);
    await this.kv.put(LOCKOUT_KEY, JSON.stringify(until.toISOString()), {
      expirationTtl: Math.max(60, Math.ceil(seconds)),
    });
    return until;
  }
}
