import { cooldownKey, idempotencyKey } from "../claim/keys";
import type { ClaimStore, KnownState } from "../claim/claim-store";
import type { BudgetState } from "../claim/rate-budget";
import type { CompiledRule } from "../config/load-rules";
import { isDexApiError } from "../dispatch/dex/errors";
import type { CommandInput } from "../dispatch/dex/schemas";
import { matchRules, trustedAlertFields } from "../match/match-rules";
import type { Decision } from "../record/decision";
import type { DeviceDirectory } from "../resolve/device-directory";
import { resolveTarget, type ResolvedDevice } from "../resolve/resolve-target";
import type { AlertTarget, NormalizedAlert } from "../sources/alert";
import type { DeliveryMessage } from "./delivery-message";

export interface PlanContext {
  rules: readonly CompiledRule[];
  directory: DeviceDirectory;
  store: ClaimStore;
  budget: BudgetState;
  maxCommandsPerMinute: number;
  /**
   * Deliveries the queue has already tried: their commands were admitted under the budget
   * on the first attempt, so a retry is never capped.
   */
  isRetry?: (delivery: number) => boolean;
  /** Finds a target the alert itself does not carry (PagerDuty's REST API, say). */
  enrich?: (alert: NormalizedAlert) => Promise<AlertTarget | undefined>;
}

/** A command that passed every check and is ready to send. */
export interface Intent {
  delivery: number;
  alert: number;
  episode: string;
  rule: CompiledRule;
  device: ResolvedDevice;
  command: CommandInput;
  key: string;
  cooldownKey?: string;
  /** Set when an earlier attempt claimed this command but recorded no outcome: reconcile first. */
  claimedSince?: Date;
}

export interface Plan {
  /** Decisions already final, per delivery. */
  decisions: Decision[][];
  intents: Intent[];
  /** Deliveries that must be tried again, with the delay to wait. */
  retry: Map<number, number>;
}

/** Delay before retrying a delivery whose device lookup failed for a passing reason. */
export const LOOKUP_RETRY_SECONDS = 30;

/**
 * Decides, for every alert of every delivery in a consumer batch, which commands to send:
 * match rules → resolve devices → drop duplicates, cooldowns and what is over a cap.
 * It reads KV and the device directory but writes nothing, so a dry run can use it as is.
 */
export async function planDeliveries(deliveries: readonly DeliveryMessage[], ctx: PlanContext): Promise<Plan> {
  const plan: Plan = { decisions: deliveries.map(() => []), intents: [], retry: new Map() };
  const candidates = (
    await Promise.all(deliveries.flatMap((d, di) => d.alerts.map((alert, ai) => candidatesFor(di, ai, alert, ctx, plan))))
  ).flat();
  if (candidates.length === 0) return plan;

  const known = await ctx.store.read(
    candidates.map((c) => c.key),
    candidates.flatMap((c) => (c.cooldownKey ? [c.cooldownKey] : [])),
  );
  const seenKeys = new Set<string>();
  const seenCooldowns = new Set<string>();
  let budgetLeft = Math.max(0, ctx.maxCommandsPerMinute - ctx.budget.usedThisMinute);

  for (const candidate of candidates) {
    const decide = (outcome: Decision["outcome"], reason: string, command_id?: string) =>
      plan.decisions[candidate.delivery]!.push(decisionFor(candidate, outcome, reason, command_id));
    const deliveryId = deliveries[candidate.delivery]!.delivery_id;
    const earlier = earlierOutcome(candidate, known, deliveryId, seenKeys);
    if (earlier) {
      decide(earlier.outcome, earlier.reason, earlier.command_id);
      continue;
    }
    seenKeys.add(candidate.key);
    // A command an earlier attempt claimed is reconciled, not cooled down by its own cooldown.
    if (candidate.cooldownKey && !known.claims.has(candidate.key)) {
      const cooling = known.cooldowns.get(candidate.cooldownKey);
      if (cooling || seenCooldowns.has(candidate.cooldownKey)) {
        decide(
          "cooldown",
          cooling
            ? `rule ${candidate.rule.name} sent ${candidate.command.type} to this device recently (command ${cooling.command_id}); cooldown until ${cooling.until}`
            : `rule ${candidate.rule.name} sends ${candidate.command.type} to this device once per ${candidate.rule.cooldown_minutes} minutes; another alert in this batch already does`,
          cooling?.command_id,
        );
        continue;
      }
      seenCooldowns.add(candidate.cooldownKey);
    }
    if (!ctx.isRetry?.(candidate.delivery)) {
      if (budgetLeft === 0) {
        decide("capped", `MAX_COMMANDS_PER_MINUTE (${ctx.maxCommandsPerMinute}) reached for this minute`);
        continue;
      }
      budgetLeft--;
    }
    const claim = known.claims.get(candidate.key);
    plan.intents.push({ ...candidate, claimedSince: claim ? new Date(claim.since) : undefined });
  }
  return plan;
}

/** The outcome already known for this command, if any: settled in KV or planned earlier in this batch. */
function earlierOutcome(
  candidate: Omit<Intent, "claimedSince">,
  known: KnownState,
  deliveryId: string,
  seenKeys: Set<string>,
): Pick<Decision, "outcome" | "reason" | "command_id"> | undefined {
  if (seenKeys.has(candidate.key)) {
    return { outcome: "duplicate", reason: "the same alert episode appears earlier in this batch" };
  }
  const settled = known.settled.get(candidate.key);
  if (!settled) return undefined;
  // This delivery's own earlier attempt: report what it did, not a duplicate of itself.
  if (settled.delivery_id === deliveryId) {
    return settled.state === "created"
      ? { outcome: "created", reason: "created by an earlier attempt of this delivery", command_id: settled.command_id }
      : { outcome: "failed", reason: settled.error };
  }
  return settled.state === "created"
    ? {
        outcome: "duplicate",
        reason: `this alert episode already created command ${settled.command_id} (delivery ${settled.delivery_id})`,
        command_id: settled.command_id,
      }
    : { outcome: "duplicate", reason: `this alert episode already failed (delivery ${settled.delivery_id}): ${settled.error}` };
}

async function candidatesFor(
  delivery: number,
  index: number,
  alert: NormalizedAlert,
  ctx: PlanContext,
  plan: Plan,
): Promise<Omit<Intent, "claimedSince">[]> {
  const decide = (decision: Omit<Decision, "alert" | "episode">) =>
    plan.decisions[delivery]!.push({ alert: index, episode: alert.episode, ...decision });
  if (!alert.firing) {
    decide({ outcome: "not-firing", reason: `status is ${alert.status}; only firing alerts start a capture` });
    return [];
  }
  const matches = matchRules(alert, ctx.rules);
  if (matches.length === 0) {
    decide({ outcome: "no-rule", reason: "no rule matches this alert" });
    return [];
  }
  const candidates: Omit<Intent, "claimedSince">[] = [];
  for (const { rule, target: matched } of matches) {
    const ruleDecision = { rule: rule.name, type: rule.command.type, args: rule.command.args };
    let resolution;
    try {
      const target = hasTarget(matched) ? matched : { ...matched, ...trustedAlertFields(rule, alert.source, (await ctx.enrich?.(alert)) ?? {}) };
      resolution = await resolveTarget(target, ctx.directory, rule);
    } catch (error) {
      if (!isDexApiError(error) || error.kind === "rejected") throw error;
      const delay = error.kind === "rate-limited" ? (error.retryAfterSeconds ?? 300) : LOOKUP_RETRY_SECONDS;
      plan.retry.set(delivery, Math.max(plan.retry.get(delivery) ?? 0, delay));
      decide({ ...ruleDecision, outcome: "retrying", reason: `device lookup failed: ${error.message}` });
      continue;
    }
    for (const skipped of resolution.skipped) {
      decide({ ...ruleDecision, outcome: skipped.reason, reason: skipped.detail, device_id: skipped.device_id });
    }
    const [kept, over] = [resolution.devices.slice(0, rule.max_devices), resolution.devices.slice(rule.max_devices)];
    for (const device of over) {
      decide({
        ...ruleDecision,
        ...deviceFields(device),
        outcome: "capped",
        reason: `rule ${rule.name} targets at most ${rule.max_devices} devices per alert`,
      });
    }
    for (const device of kept) {
      const identity = { rule: rule.name, device_id: device.device_id, registration_id: device.registration_id, type: rule.command.type };
      candidates.push({
        delivery,
        alert: index,
        episode: alert.episode,
        rule,
        device,
        command: { ...rule.command, ...deviceFields(device) } as CommandInput,
        key: await idempotencyKey({ ...identity, episode: alert.episode }),
        cooldownKey: rule.cooldown_minutes ? await cooldownKey(identity) : undefined,
      });
    }
  }
  return candidates;
}

function hasTarget(target: AlertTarget): boolean {
  return !!(target.device_id || target.user_email || target.hostname);
}

function deviceFields(device: ResolvedDevice) {
  return {
    device_id: device.device_id,
    user_email: device.user_email,
    ...(device.registration_id ? { registration_id: device.registration_id } : {}),
  };
}

/** The decision for a planned command, with the rule, device and command it concerns. */
export function decisionFor(
  intent: Pick<Intent, "alert" | "episode" | "rule" | "device" | "command">,
  outcome: Decision["outcome"],
  reason: string,
  command_id?: string,
): Decision {
  return {
    alert: intent.alert,
    episode: intent.episode,
    outcome,
    reason,
    rule: intent.rule.name,
    type: intent.command.type,
    args: intent.command.args,
    ...deviceFields(intent.device),
    ...(command_id ? { command_id } : {}),
  };
}
