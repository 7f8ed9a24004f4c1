import type { CompiledRule } from "../config/load-rules";
import type { CommandInput } from "../model/dex-api";
import { matchRules, trustedAlertFields, type RuleMatch } from "../match/match-rules";
import { requestedRule } from "../match/requested-rule";
import { severityRank, type AlertTarget, type NormalizedAlert } from "../model/alert";
import type { Decision } from "../model/decision";
import { logProblem } from "../record/log";
import { foundDevices, type DeviceDirectory, type LookupRound } from "../resolve/device-directory";
import { lookupTerm } from "../resolve/device-list";
import { searchTermOf, type ResolvedDevice } from "../resolve/resolve-target";
import { resolveTargets, targetsFor } from "../resolve/rule-targets";
import { LOOKUP_WAIT_REASON, type Delivery } from "./delivery";

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

/** What a matching rule aims at, and what the devices API must be searched by to resolve it. */
interface Aim {
  rule: CompiledRule;
  targets: AlertTarget[];
  terms: string[];
}

/** A firing alert that matched rules, before its devices are looked up. */
interface MatchedAlert {
  delivery: Delivery;
  index: number;
  alert: NormalizedAlert;
  aims: Aim[];
}

/**
 * Decides, for every alert of a consumer batch that is to be planned, which commands it asks
 * for, in three steps: rules are matched (and targets enriched) alert by alert; every device
 * search the batch needs is looked up at once, so the directory can choose the cheapest read
 * of the API and pay the most urgent alerts first; then each alert is resolved from what was
 * found. An alert whose lookups the API budget could not pay for now waits, whole, for a
 * later pass; every other alert that yields no command gets a decision saying why. One
 * alert's failure is that alert's alone.
 */
export async function planDeliveries(deliveries: readonly Delivery[], ctx: PlanContext): Promise<PlannedCommand[]> {
  const matched = (await Promise.all(deliveries.map((delivery) => matchDelivery(delivery, ctx)))).flat();
  const round = await ctx.directory.lookUp([...matched].sort(byUrgency).flatMap((m) => m.aims.flatMap((aim) => aim.terms)));
  const planned = await Promise.all(matched.map((m) => resolveAlert(m, round)));
  return planned.flat();
}

async function matchDelivery(delivery: Delivery, ctx: PlanContext): Promise<MatchedAlert[]> {
  const matched = await Promise.all(delivery.alertsToPlan.map((index) => matchAlert(delivery, index, ctx)));
  return matched.filter((m): m is MatchedAlert => m !== undefined);
}

async function matchAlert(delivery: Delivery, index: number, ctx: PlanContext): Promise<MatchedAlert | undefined> {
  const alert = delivery.body.alerts[index]!;
  const decide = (decision: Omit<Decision, "alert" | "episode">) => delivery.decide({ alert: index, episode: alert.episode, ...decision });
  if (!alert.firing) {
    decide({ outcome: "not-firing", reason: `status is ${alert.status}; only firing alerts start a capture` });
    return undefined;
  }
  let matches: RuleMatch[];
  try {
    matches = alert.request ? requestedRule(alert, ctx.rules) : matchRules(alert, ctx.rules);
  } catch (error) {
    logProblem("alert-failed", { delivery_id: delivery.id, alert: index, error: messageOf(error) });
    decide({ outcome: "failed", reason: `could not match rules against this alert: ${messageOf(error)}` });
    return undefined;
  }
  if (matches.length === 0) {
    const reason = alert.request ? `rule ${alert.request.rule} no longer allows captures on demand` : "no rule matches this alert";
    decide({ outcome: "no-rule", reason });
    return undefined;
  }
  const aims: Aim[] = [];
  for (const { rule, target } of matches) {
    try {
      // Fixed targets replace the alert's own: nothing to enrich, and max_devices does not cut
      // them. What a source says beyond the alert counts only as far as the rule trusts it.
      const fixed = rule.targets !== undefined;
      const full = fixed || hasTarget(target) ? target : { ...target, ...trustedAlertFields(rule, alert.source, (await ctx.enrich?.(alert)) ?? {}) };
      const targets = targetsFor(rule, full);
      aims.push({ rule, targets, terms: targets.flatMap((t) => searchTermOf(t, rule) ?? []).map(lookupTerm) });
    } catch (error) {
      logProblem("lookup-failed", { delivery_id: delivery.id, alert: index, error: messageOf(error) });
      delivery.retryLater({ ...about(index, alert, rule), outcome: "retrying", reason: `device lookup failed: ${messageOf(error)}` }, LOOKUP_RETRY_SECONDS);
    }
  }
  return { delivery, index, alert, aims };
}

/** Resolves an alert's targets from what the batch's lookups found, or leaves the alert waiting. */
async function resolveAlert({ delivery, index, alert, aims }: MatchedAlert, round: LookupRound): Promise<PlannedCommand[]> {
  const waiting = round.waiting;
  if (waiting && aims.some((aim) => aim.terms.some((term) => waiting.terms.has(term)))) {
    // All or nothing per alert: a later pass plans it whole, and no part of it is sent twice or half.
    delivery.waitForBudget(
      index,
      aims.map((aim) => ({ ...about(index, alert, aim.rule), outcome: "waiting", reason: LOOKUP_WAIT_REASON })),
      waiting,
    );
    return [];
  }
  const planned: PlannedCommand[] = [];
  const source = foundDevices(round);
  for (const { rule, targets, terms } of aims) {
    const decision = about(index, alert, rule);
    const failure = terms.map((term) => round.failed.get(term)).find((error) => error !== undefined);
    if (failure !== undefined) {
      // The one path for "try again later": the API failed, or storage did.
      delivery.retryLater({ ...decision, outcome: "retrying", reason: `device lookup failed: ${messageOf(failure)}` }, LOOKUP_RETRY_SECONDS);
      continue;
    }
    const resolution = await resolveTargets(targets, source, rule);
    for (const skipped of resolution.skipped) {
      delivery.decide({ ...decision, outcome: skipped.reason, reason: skipped.detail, ...(skipped.device_id ? { device_id: skipped.device_id } : {}) });
    }
    resolution.devices.forEach((device, i) => {
      if (!rule.targets && i >= rule.max_devices) {
        delivery.decide({
          ...decision,
          ...deviceFields(device),
          outcome: "capped",
          reason: `rule ${rule.name} targets at most ${rule.max_devices} devices per alert`,
        });
        return;
      }
      planned.push({ delivery, alert: index, source: alert, rule, device, command: { ...rule.command, ...deviceFields(device) } as CommandInput });
    });
  }
  return planned;
}

/** The most severe alerts first, then the oldest delivery, then the group's own order. */
function byUrgency(a: MatchedAlert, b: MatchedAlert): number {
  return (
    severityRank(a.alert.severity) - severityRank(b.alert.severity) ||
    a.delivery.body.received_at.localeCompare(b.delivery.body.received_at) ||
    a.index - b.index
  );
}

/** The parts of a decision that say which alert and rule it is about. */
function about(index: number, alert: NormalizedAlert, rule: CompiledRule) {
  return { alert: index, episode: alert.episode, rule: rule.name, type: rule.command.type, args: rule.command.args };
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
