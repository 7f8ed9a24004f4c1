import type { ClaimStore } from "../claim/claim-store";
import type { BudgetState, RateBudget } from "../claim/rate-budget";
import { isDexApiError, type DexApiError } from "../dispatch/dex/errors";
import { findLanded, type CommandLister } from "../dispatch/reconcile";
import { sendCommands, type CommandCreator } from "../dispatch/send-commands";
import type { Decision } from "../record/decision";
import type { DeliveryMessage } from "./delivery-message";
import { decisionFor, type Intent, type Plan } from "./plan";

export interface ExecuteContext {
  api: CommandCreator & CommandLister;
  store: ClaimStore;
  rateBudget: RateBudget;
  budget: BudgetState;
  now: () => Date;
}

/** Delay before retrying commands whose create may or may not have landed. */
export const UNCERTAIN_RETRY_SECONDS = 30;

/** What executing a plan cost in DEX API calls. */
export interface ExecuteStats {
  createCalls: number;
  reconcileCalls: number;
}

/**
 * Sends the planned commands, once each: commands an earlier attempt may have created are
 * looked up first, each command is claimed in KV before its create leaves, and each outcome
 * is recorded so no later delivery of the same episode sends it again.
 */
export async function executePlan(
  plan: Plan,
  deliveries: readonly DeliveryMessage[],
  ctx: ExecuteContext,
): Promise<ExecuteStats> {
  const stats: ExecuteStats = { createCalls: 0, reconcileCalls: 0 };
  const decide = (intent: Intent, outcome: Decision["outcome"], reason: string, commandId?: string) =>
    plan.decisions[intent.delivery]!.push(decisionFor(intent, outcome, reason, commandId));
  const retryLater = (intent: Intent, seconds: number) =>
    plan.retry.set(intent.delivery, Math.max(plan.retry.get(intent.delivery) ?? 0, Math.ceil(seconds)));

  if (plan.intents.length === 0) return stats;
  if (ctx.budget.lockedUntil) {
    const wait = (ctx.budget.lockedUntil.getTime() - ctx.now().getTime()) / 1000;
    for (const intent of plan.intents) {
      decide(intent, "retrying", `the DEX API is rate limiting this token until ${ctx.budget.lockedUntil.toISOString()}`);
      retryLater(intent, wait);
    }
    return stats;
  }

  const created = async (intent: Intent, commandId: string, reason: string) => {
    const at = ctx.now().toISOString();
    const deliveryId = deliveries[intent.delivery]!.delivery_id;
    await Promise.all([
      ctx.store.settle(intent.key, { state: "created", command_id: commandId, delivery_id: deliveryId, at }),
      intent.cooldownKey && intent.rule.cooldown_minutes
        ? ctx.store.startCooldown(
            intent.cooldownKey,
            {
              command_id: commandId,
              until: new Date(ctx.now().getTime() + intent.rule.cooldown_minutes * 60_000).toISOString(),
            },
            intent.rule.cooldown_minutes,
          )
        : undefined,
    ]);
    decide(intent, "created", reason, commandId);
  };

  let reconcileLockout: number | undefined;
  const uncheckable = (intent: Intent, error: DexApiError) => {
    decide(intent, "retrying", `could not check whether the command was created: ${error.message}`);
    const wait = error.kind === "rate-limited" ? (error.retryAfterSeconds ?? UNCERTAIN_RETRY_SECONDS) : UNCERTAIN_RETRY_SECONDS;
    if (error.kind === "rate-limited") reconcileLockout = wait;
    retryLater(intent, wait);
  };
  const toSend = await reconcile(plan.intents, ctx, stats, created, uncheckable);
  // A 429 on the check locks the token out like one on a create: nothing more is sent now.
  if (reconcileLockout !== undefined) {
    await ctx.rateBudget.lockOut(reconcileLockout);
    for (const intent of toSend) {
      decide(intent, "retrying", `the DEX API answered 429; retrying after ${reconcileLockout} s`);
      retryLater(intent, reconcileLockout);
    }
    return stats;
  }
  if (toSend.length === 0) return stats;

  const since = ctx.now().toISOString();
  await Promise.all(
    toSend.map((intent) => ctx.store.claim(intent.key, { since, delivery_id: deliveries[intent.delivery]!.delivery_id })),
  );
  await ctx.rateBudget.spend(ctx.budget, toSend.length);
  const { results, calls } = await sendCommands(
    ctx.api,
    toSend.map((intent) => intent.command),
  );
  stats.createCalls += calls;

  const uncertain: Intent[] = [];
  const createErrors = new Map<string, string>();
  await Promise.all(
    toSend.map(async (intent, i) => {
      const result = results[i]!;
      switch (result.state) {
        case "created":
          return created(intent, result.command_id, "command created");
        case "failed":
          await ctx.store.settle(intent.key, {
            state: "failed",
            error: result.error,
            delivery_id: deliveries[intent.delivery]!.delivery_id,
            at: ctx.now().toISOString(),
          });
          return decide(intent, "failed", result.error);
        case "rate-limited":
          await ctx.store.release(intent.key);
          decide(intent, "retrying", `the DEX API answered 429; retrying after ${result.retryAfterSeconds} s`);
          return retryLater(intent, result.retryAfterSeconds);
        case "uncertain":
          uncertain.push({ ...intent, claimedSince: new Date(since) });
          createErrors.set(intent.key, result.error);
      }
    }),
  );
  // Ask at once whether an uncertain create landed, so the outcome is known in this attempt
  // whenever the API can say; only what it cannot confirm waits for the next attempt.
  if (uncertain.length > 0) {
    const notLanded = await reconcile(uncertain, ctx, stats, created, uncheckable);
    for (const intent of notLanded) {
      const error = createErrors.get(intent.key);
      decide(intent, "retrying", `${error}; it did not land, and the next attempt checks again before creating it`);
      retryLater(intent, UNCERTAIN_RETRY_SECONDS);
    }
  }
  if (reconcileLockout !== undefined) await ctx.rateBudget.lockOut(reconcileLockout);
  const lockout = results.find((r) => r.state === "rate-limited");
  if (lockout?.state === "rate-limited") await ctx.rateBudget.lockOut(lockout.retryAfterSeconds);
  return stats;
}

/**
 * Commands an earlier attempt claimed without recording an outcome may exist already:
 * ask the API, record the ones found, and return everything that still needs a create.
 */
async function reconcile(
  intents: Intent[],
  ctx: ExecuteContext,
  stats: ExecuteStats,
  created: (intent: Intent, commandId: string, reason: string) => Promise<void>,
  unresolved: (intent: Intent, error: DexApiError) => void,
): Promise<Intent[]> {
  const claimed = intents.filter((i) => i.claimedSince);
  const fresh = intents.filter((i) => !i.claimedSince);
  if (claimed.length === 0) return fresh;
  let landed: (string | undefined)[];
  try {
    stats.reconcileCalls++;
    landed = await findLanded(
      ctx.api,
      claimed.map((i) => ({
        device_id: i.device.device_id,
        registration_id: i.device.registration_id,
        type: i.command.type,
        since: i.claimedSince!,
      })),
    );
  } catch (error) {
    if (!isDexApiError(error)) throw error;
    for (const intent of claimed) unresolved(intent, error);
    return fresh;
  }
  const stillToSend: Intent[] = [];
  await Promise.all(
    claimed.map((intent, i) => {
      const id = landed[i];
      if (id) return created(intent, id, "an earlier attempt's create had landed; found it instead of creating again");
      stillToSend.push(intent);
    }),
  );
  return [...fresh, ...stillToSend];
}
