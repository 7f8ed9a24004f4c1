/**
 * Idempotency records in KV. Each command the relay means to send has two keys, because KV
 * allows one write per second to a key and a claim is followed by its outcome within
 * milliseconds:
 * - `claim:<key>`: written just before the create is sent. Seen without an outcome, it
 *   means an earlier attempt may have created the command: reconcile before creating.
 * - `done:<key>`: the outcome, a command id or the API's error. Seen, it means: never again.
 * - `cooldown:<key>`: a command of this type went to this device under this rule recently.
 */

export interface Claim {
  since: string;
  delivery_id: string;
}

export type Settled =
  | { state: "created"; command_id: string; delivery_id: string; at: string }
  | { state: "failed"; error: string; delivery_id: string; at: string };

export interface Cooldown {
  command_id: string;
  until: string;
}

export interface KnownState {
  claims: Map<string, Claim>;
  settled: Map<string, Settled>;
  cooldowns: Map<string, Cooldown>;
}

/** KV reads at most this many keys in one bulk get. */
const KV_BULK_GET_LIMIT = 100;
/** A claim outlives any retry schedule of the queue, so an unfinished create is always reconciled. */
const CLAIM_TTL_SECONDS = 24 * 3600;
/** KV's shortest expiration. */
const MIN_TTL_SECONDS = 60;

export class ClaimStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly settledTtlSeconds: number,
  ) {}

  /** What is known about these commands, in as few KV reads as the bulk limit allows. */
  async read(keys: readonly string[], cooldownKeys: readonly string[]): Promise<KnownState> {
    const names = [
      ...new Set([...keys.flatMap((k) => [`claim:${k}`, `done:${k}`]), ...cooldownKeys.map((k) => `cooldown:${k}`)]),
    ];
    const values = new Map<string, unknown>();
    for (let i = 0; i < names.length; i += KV_BULK_GET_LIMIT) {
      const chunk = names.slice(i, i + KV_BULK_GET_LIMIT);
      for (const [name, value] of await this.kv.get<unknown>(chunk, "json")) values.set(name, value);
    }
    const pick = <T>(prefix: string, list: readonly string[]) =>
      new Map(list.flatMap((k) => (values.get(prefix + k) ? [[k, values.get(prefix + k) as T] as const] : [])));
    return {
      claims: pick<Claim>("claim:", keys),
      settled: pick<Settled>("done:", keys),
      cooldowns: pick<Cooldown>("cooldown:", cooldownKeys),
    };
  }

  claim(key: string, claim: Claim): Promise<void> {
    return this.kv.put(`claim:${key}`, JSON.stringify(claim), { expirationTtl: CLAIM_TTL_SECONDS });
  }

  /** The create was refused before anything landed (429): the next attempt need not reconcile. */
  release(key: string): Promise<void> {
    return this.kv.delete(`claim:${key}`);
  }

  settle(key: string, outcome: Settled): Promise<void> {
    return this.kv.put(`done:${key}`, JSON.stringify(outcome), { expirationTtl: this.settledTtlSeconds });
  }

  startCooldown(key: string, cooldown: Cooldown, minutes: number): Promise<void> {
    return this.kv.put(`cooldown:${key}`, JSON.stringify(cooldown), {
      expirationTtl: Math.max(MIN_TTL_SECONDS, minutes * 60),
    });
  }
}
