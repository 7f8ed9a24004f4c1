/**
 * The account's DEX command quota, as the command ledger knows it. It is read with
 * `GET /dex/commands/quota` within the one API budget, at most every few minutes while the
 * ledger is at work, and learnt at once from a create the API refuses because it is spent.
 * While it is spent, creates wait for the reset instead of failing one by one.
 *
 * What `quota` means is documented both ways: Cloudflare's SDKs and the OpenAPI schema they
 * are generated from say "the remaining number of commands", the API reference page "the
 * total number". So the ledger acts only on what holds under both readings:
 * - at least `quota - quota_usage` commands are left (exactly that if `quota` is the total,
 *   more if it is what is left), and at most `quota`;
 * - the quota is spent for certain when `quota` is 0;
 * - it is not spent for certain when `quota - quota_usage` is above 0.
 * In between (quota 800, used 800) a reading holds nothing back: a create goes out, and if
 * the API refuses it for the quota, that refusal marks the quota spent until the reset. A
 * wrong "spent" would hold every capture for up to a day; a wrong "not spent" costs one
 * refused create.
 *
 * What was read is kept as rows of the ledger's `limits` table (name → INTEGER), one per
 * fact, so that it needs no table of its own.
 */
import type { CommandQuota } from "../model/dex-api";
import { isDexApiError } from "../model/dex-api-error";
import { logEvent, logProblem } from "../record/log";

/** While the ledger is at work, the quota is read at most this often (and again at its reset). */
export const QUOTA_READ_INTERVAL_MS = 5 * 60_000;
/** After a read that failed, the next waits this long (or the API's Retry-After). */
export const QUOTA_READ_RETRY_MS = 60_000;

/** The `limits` rows that hold the quota; every value is an integer, times in ms since the epoch. */
const KEYS = {
  quota: "dex_quota",
  used: "dex_quota_usage",
  resetAt: "dex_quota_reset_at",
  readAt: "dex_quota_read_at",
  nextReadAt: "dex_quota_next_read_at",
  /** Creates wait until then; 0 when nothing says the quota is spent. */
  spentUntil: "dex_quota_spent_until",
  /** A create refused for the quota that no read has followed yet; 0 when none. */
  refusedAt: "dex_quota_refused_at",
} as const;

type Fact = keyof typeof KEYS;
type Facts = Partial<Record<Fact, number>>;

/** The quota as `GET /healthz` and the console show it: the last reading, never a call. */
export interface QuotaStatus {
  /** As the API gave it: the total, or what is left, depending on which documentation is right. */
  quota: number | null;
  used: number | null;
  /** What is left whichever way `quota` is read. */
  left_at_least: number | null;
  reset_time: string | null;
  read_at: string | null;
  /** While set, the ledger sends no create: the quota is spent until then. */
  spent_until: string | null;
}

/** What is left, within the bounds both readings of `quota` agree on. */
export function leftOf(quota: number, used: number): { atLeast: number; atMost: number } {
  return { atLeast: Math.max(0, quota - used), atMost: Math.max(0, quota) };
}

/** The quota facts of the ledger's `limits` table. Every method is synchronous, as the ledger's storage is. */
export class AccountQuota {
  constructor(private readonly sql: SqlStorage) {}

  /** When creates may go out again, while the quota is spent; undefined when they may go now. */
  spentUntil(now: number): number | undefined {
    const { spentUntil = 0 } = this.#facts();
    return spentUntil > now ? spentUntil : undefined;
  }

  /** Never read, the last read is old or was before the reset, or a create was refused since. */
  readDue(now: number): boolean {
    const { nextReadAt } = this.#facts();
    return nextReadAt === undefined || nextReadAt <= now;
  }

  /**
   * A create was refused because the quota is spent: creates wait until the reset last read,
   * if it is still ahead, else until a read can say when; and that read is due now.
   */
  refused(now: number): number {
    const { resetAt = 0, spentUntil = 0 } = this.#facts();
    const until = Math.max(spentUntil, resetAt > now ? resetAt : now + QUOTA_READ_INTERVAL_MS);
    this.#write({ spentUntil: until, refusedAt: now, nextReadAt: now });
    return until;
  }

  /** Keeps a reading, and says from it whether creates must wait (see the top of this file). */
  record(reading: CommandQuota, now: number): void {
    const previous = this.#facts();
    const quota = Math.floor(reading.quota);
    const used = Math.floor(reading.quota_usage);
    const resetAt = Date.parse(reading.reset_time);
    const resetAhead = resetAt > now;
    const { atLeast, atMost } = leftOf(quota, used);
    let spentUntil = previous.spentUntil ?? 0;
    // Nothing left, or nothing allowed: spent whichever way `quota` is read.
    if (atMost === 0) spentUntil = resetAt;
    // The API refused a create for the quota: the reading says until when.
    else if (previous.refusedAt) spentUntil = resetAhead ? resetAt : now + QUOTA_READ_INTERVAL_MS;
    // Room left whichever way it is read (the quota was raised, or it has reset).
    else if (atLeast > 0) spentUntil = 0;
    const nextReadAt = resetAhead ? Math.min(now + QUOTA_READ_INTERVAL_MS, resetAt) : now + QUOTA_READ_INTERVAL_MS;
    this.#write({ quota, used, resetAt, readAt: now, nextReadAt, spentUntil, refusedAt: 0 });
  }

  /** A read failed: the next one waits a little, so that a failing API is not asked on every pass. */
  readFailed(now: number, retryAfterSeconds?: number): void {
    this.#write({ nextReadAt: now + Math.max(QUOTA_READ_RETRY_MS, (retryAfterSeconds ?? 0) * 1000) });
  }

  status(now: number): QuotaStatus {
    const facts = this.#facts();
    const read = facts.readAt !== undefined && facts.quota !== undefined && facts.used !== undefined;
    const until = this.spentUntil(now);
    return {
      quota: read ? facts.quota! : null,
      used: read ? facts.used! : null,
      left_at_least: read ? leftOf(facts.quota!, facts.used!).atLeast : null,
      reset_time: read && facts.resetAt !== undefined ? new Date(facts.resetAt).toISOString() : null,
      read_at: read ? new Date(facts.readAt!).toISOString() : null,
      spent_until: until === undefined ? null : new Date(until).toISOString(),
    };
  }

  #facts(): Facts {
    const names = Object.values(KEYS);
    const rows = this.sql
      .exec<{ name: string; value: number }>(`SELECT name, value FROM limits WHERE name IN (${names.map(() => "?").join(", ")})`, ...names)
      .toArray();
    const facts: Facts = {};
    for (const [fact, name] of Object.entries(KEYS) as Array<[Fact, string]>) {
      const row = rows.find((r) => r.name === name);
      if (row) facts[fact] = row.value;
    }
    return facts;
  }

  #write(facts: Facts): void {
    for (const [fact, value] of Object.entries(facts) as Array<[Fact, number]>) {
      this.sql.exec("INSERT INTO limits (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", KEYS[fact], value);
    }
  }
}

/** What reads the quota: the ledger's DexClient, gated by its API budget. */
export interface QuotaReader {
  getQuota(): Promise<CommandQuota>;
}

/**
 * Reads the quota if a read is due. A failed read is logged and tried again later: it never
 * stops a send or a status poll, since the API's refusal of a create says "spent" anyway.
 */
export async function refreshQuota(api: QuotaReader, quota: AccountQuota): Promise<void> {
  if (!quota.readDue(Date.now())) return;
  let reading: CommandQuota;
  try {
    reading = await api.getQuota();
  } catch (error) {
    if (!isDexApiError(error)) throw error;
    quota.readFailed(Date.now(), error.retryAfterSeconds);
    return logProblem("dex-quota-read-failed", { error: error.message });
  }
  const now = Date.now();
  quota.record(reading, now);
  const { spent_until, left_at_least } = quota.status(now);
  logEvent("dex-quota-read", {
    quota: reading.quota,
    used: reading.quota_usage,
    left_at_least: left_at_least ?? undefined,
    reset_time: reading.reset_time,
    spent_until: spent_until ?? undefined,
  });
}

/** Why a command is not sent while the quota is spent. */
export function quotaReason(spentUntil: number): string {
  return `the account's DEX command quota is spent until ${new Date(spentUntil).toISOString()}`;
}
