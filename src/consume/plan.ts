import type { CompiledRule } from "../config/load-rules";
import { isDexApiError } from "../model/dex-api-error";
import type { CommandInput } from "../model/dex-api";
import { matchRules, trustedAlertFields, type RuleMatch } from "../match/match-rules";
import { requestedRule } from "../match/requested-rule";
import type { Decision } from "../model/decision";
import { logProblem } from "../record/log";
import type { DeviceDirectory } from "../resolve/device-directory";
import type { ResolvedDevice } from "../resolve/resolve-target";
import { resolveTargets, targetsFor } from "../resolve/rule-targets";
import type { AlertTarget, NormalizedAlert } from "../model/alert";
import type { Delivery } from "./delivery";

export interface PlanContext {
  rules: readonly CompiledRule[];
  directory: DeviceDirectory;
  /** Finds a target the alert itself does not carry (PagerDuty's REST API, say). */
  enrich?: (alert: NormalizedAlert) => Promise<AlertTarget | undefined>;
}

/** A command that passed matching and device resolution: the command ledger decides the rest. */
export interface PlannedCommand {
  delivery: Delivery;
  /** Index of the alert in its delivery. */
  alert: number;
  source: NormalizedAlert;
  rule: CompiledRule;
  device: ResolvedDevice;
  command: CommandInput;
}

/** Delay before the queue retries a delivery whose device lookup failed for a passing reason. */
export const LOOKUP_RETRY_SECONDS = 30;
/** Without `Retry-After`, the API's lockout lasts this long. */
const DEFAULT_LOCKOUT_SECONDS = 300;
/**
 * Distinct device lookups one delivery may cause. A 1,000-alert group naming 1,000 hosts
 * must not spend the account's API budget (and lock the token out) on its own.
 */
export const MAX_LOOKUPS_PER_DELIVERY = 20;

/** Thrown by the bounded directory once a delivery has used its lookups. */
class LookupLimitReached extends Error {}

/**
 * Decides, for every alert of a delivery, which commands it asks for: rules are matched and
 * devices resolved; every alert that yields no command gets a decision saying why. One
 * alert's failure is that alert's alone.
 */
export async function planDelivery(delivery: Delivery, ctx: PlanContext): Promise<PlannedCommand[]> {
  const bounded = { ...ctx, directory: boundedDirectory(ctx.directory, MAX_LOOKUPS_PER_DELIVERY), configured: ctx.directory };
  const planned = await Promise.all(delivery.body.alerts.map((alert, index) => planAlert(delivery, index, alert, bounded)));
  return planned.flat();
}

/**
 * Within one delivery: lookups of what the sender names are bounded; those of rules' fixed
 * targets are bounded by the configuration (50 a rule) and use `configured`.
 */
type DeliveryPlanContext = PlanContext & { configured: DeviceDirectory };

async function planAlert(delivery: Delivery, index: number, alert: NormalizedAlert, ctx: DeliveryPlanContext): Promise<PlannedCommand[]> {
  const decide = (decision: Omit<Decision, "alert" | "episode">) => delivery.decide({ alert: index, episode: alert.episode, ...decision });
  if (!alert.firing) {
    decide({ outcome: "not-firing", reason: `status is ${alert.status}; only firing alerts start a capture` });
    return [];
  }
  let matches: RuleMatch[];
  try {
    matches = alert.request ? requestedRule(alert, ctx.rules) : matchRules(alert, ctx.rules);
  } catch (error) {
    logProblem("alert-failed", { delivery_id: delivery.id, alert: index, error: messageOf(error) });
    decide({ outcome: "failed", reason: `could not match rules against this alert: ${messageOf(error)}` });
    return [];
  }
  if (matches.length === 0) {
    const reason = alert.request ? `rule ${alert.request.rule} no longer allows captures on demand` : "no rule matches this alert";
    decide({ outcome: "no-rule", reason });
    return [];
  }
  const planned: PlannedCommand[] = [];
  for (const { rule, target } of matches) {
    const about = { rule: rule.name, type: rule.command.type, args: rule.command.args };
    let resolution;
    try {
      // Fixed targets replace the alert's own: nothing to enrich, and max_devices does not cut
      // them. What a source says beyond the alert counts only as far as the rule trusts it.
      const fixed = rule.targets !== undefined;
      const full = fixed || hasTarget(target) ? target : { ...target, ...trustedAlertFields(rule, alert.source, (await ctx.enrich?.(alert)) ?? {}) };
      resolution = await resolveTargets(targetsFor(rule, full), fixed ? ctx.configured : ctx.directory, rule);
    } catch (error) {
      if (error instanceof LookupLimitReached) {
        decide({ ...about, outcome: "capped", reason: error.message });
        continue;
      }
      // The one path for "try again later": the API asked to wait, failed, or storage did.
      const wait = isDexApiError(error) && error.kind === "rate-limited" ? (error.retryAfterSeconds ?? DEFAULT_LOCKOUT_SECONDS) : LOOKUP_RETRY_SECONDS;
      if (!isDexApiError(error)) logProblem("lookup-failed", { delivery_id: delivery.id, alert: index, error: messageOf(error) });
      delivery.retryLater(
        { alert: index, episode: alert.episode, ...about, outcome: "retrying", reason: `device lookup failed: ${messageOf(error)}` },
        wait,
      );
      continue;
    }
    for (const skipped of resolution.skipped) {
      decide({ ...about, outcome: skipped.reason, reason: skipped.detail, device_id: skipped.device_id });
    }
    resolution.devices.forEach((device, i) => {
      if (!rule.targets && i >= rule.max_devices) {
        decide({ ...about, ...deviceFields(device), outcome: "capped", reason: `rule ${rule.name} targets at most ${rule.max_devices} devices per alert` });
        return;
      }
      planned.push({ delivery, alert: index, source: alert, rule, device, command: { ...rule.command, ...deviceFields(device) } as CommandInput });
    });
  }
  return planned;
}

/** A directory that refuses more than `max` distinct searches. */
function boundedDirectory(directory: DeviceDirectory, max: number): DeviceDirectory {
  const terms = new Set<string>();
  return {
    search(term) {
      const normalized = term.trim().toLowerCase();
      if (!terms.has(normalized) && terms.size >= max) {
        return Promise.reject(new LookupLimitReached(`this delivery names more than ${max} different devices; the rest are not looked up`));
      }
      terms.add(normalized);
      return directory.search(term);
    },
    get lookups() {
      return directory.lookups;
    },
  };
}

function hasTarget(target: AlertTarget): boolean {
  return !!(target.device_id || target.user_email || target.hostname);
}

export function deviceFields(device: ResolvedDevice) {
  return {
    device_id: device.device_id,
    user_email: device.user_email,
    ...(device.registration_id ? { registration_id: device.registration_id } : {}),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
