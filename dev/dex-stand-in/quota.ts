import { z } from "zod";
import { ApiFailure, ERROR_CODES } from "./envelope";

/** Commands one account may create per period unless told otherwise. */
export const DAILY_COMMAND_QUOTA = 1000;
/** The quota resets this long after its last reset: at 00:00 UTC, unless a reset time is set. */
export const QUOTA_PERIOD_MS = 86_400_000;

/**
 * What `quota` carries in `GET /dex/commands/quota`: what is left, as Cloudflare's SDKs
 * document it, or the total, as its API reference does. Either can be played, so that the
 * relay can be watched working under both.
 */
export const QUOTA_FIELDS = ["remaining", "total"] as const;
export type QuotaField = (typeof QUOTA_FIELDS)[number];

export interface QuotaOptions {
  /** Commands allowed per period; `DAILY_COMMAND_QUOTA` by default. */
  limit?: number;
  /** Commands already created in the current period; 0 by default. */
  used?: number;
  /** When the current period ends; the next 00:00 UTC by default. Each period after lasts a day. */
  resetAt?: Date;
  /** What `quota` carries; `remaining` by default. */
  field?: QuotaField;
}

/** The body of `POST /__quota`: what to change, the rest stays as it is. */
export const QuotaRequest = z.strictObject({
  limit: z.int().min(0).max(1_000_000).optional(),
  used: z.int().min(0).max(1_000_000).optional(),
  reset_time: z.iso.datetime({ offset: true }).optional(),
  field: z.enum(QUOTA_FIELDS).optional(),
});
export type QuotaChange = z.infer<typeof QuotaRequest>;

/** The account's command quota: every create counts, and a create that does not fit is refused whole. */
export class CommandQuota {
  readonly #initial: QuotaOptions;
  #limit = DAILY_COMMAND_QUOTA;
  #used = 0;
  #resetAt: number | undefined;
  #field: QuotaField = "remaining";

  constructor(options: QuotaOptions = {}) {
    this.#initial = options;
    this.reset();
  }

  /** `GET /dex/commands/quota`'s result at `now`. */
  view(now: Date): { quota: number; quota_usage: number; reset_time: string } {
    const resetAt = this.#roll(now.getTime());
    const quota = this.#field === "total" ? this.#limit : Math.max(0, this.#limit - this.#used);
    return { quota, quota_usage: this.#used, reset_time: new Date(resetAt).toISOString() };
  }

  /**
   * Counts a create of `count` commands, or refuses it, creating none, when it does not fit
   * in what is left. The API documents no answer for this; the stand-in's is a 400 whose
   * error names the quota and its reset, which is what the relay recognises (any refusal
   * whose errors speak of the quota: src/model/dex-api-error.ts).
   */
  take(count: number, now: Date): void {
    const resetAt = this.#roll(now.getTime());
    if (this.#used + count <= this.#limit) {
      this.#used += count;
      return;
    }
    const message = `Command quota exceeded: ${this.#used} of ${this.#limit} commands used; the quota resets at ${new Date(resetAt).toISOString()}`;
    throw new ApiFailure(400, [{ code: ERROR_CODES.quotaExceeded, message }]);
  }

  /** What `POST /__quota` asks for; what it leaves out stays as it is. */
  set(request: QuotaChange, now: Date): void {
    this.#roll(now.getTime());
    if (request.limit !== undefined) this.#limit = request.limit;
    if (request.used !== undefined) this.#used = request.used;
    if (request.reset_time !== undefined) this.#resetAt = Date.parse(request.reset_time);
    if (request.field !== undefined) this.#field = request.field;
  }

  /** As `GET /` and `POST /__quota` show it. */
  summary(now: Date) {
    const { reset_time } = this.view(now);
    return { limit: this.#limit, used: this.#used, left: Math.max(0, this.#limit - this.#used), reset_time, field: this.#field };
  }

  /** Back to what the stand-in was created with. */
  reset(): void {
    this.#limit = this.#initial.limit ?? DAILY_COMMAND_QUOTA;
    this.#used = this.#initial.used ?? 0;
    this.#resetAt = this.#initial.resetAt?.getTime();
    this.#field = this.#initial.field ?? "remaining";
  }

  /** The end of the period `now` is in: a reset that has passed starts a new period, with nothing used. */
  #roll(now: number): number {
    this.#resetAt ??= Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) + QUOTA_PERIOD_MS;
    if (now >= this.#resetAt) {
      this.#resetAt += (Math.floor((now - this.#resetAt) / QUOTA_PERIOD_MS) + 1) * QUOTA_PERIOD_MS;
      this.#used = 0;
    }
    return this.#resetAt;
  }
}
