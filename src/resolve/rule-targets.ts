import type { Rule } from "../config/rules-schema";
import type { AlertTarget } from "../model/alert";
import { resolveTarget, type DeviceSource, type Resolution, type ResolveOptions } from "./resolve-target";

/**
 * What a rule's command is aimed at: the rule's fixed `targets` when it lists them,
 * whatever the alert names, else the alert's own target.
 */
export function targetsFor(rule: Pick<Rule, "targets">, alertTarget: AlertTarget): AlertTarget[] {
  return rule.targets ? rule.targets.map((target) => ({ ...target })) : [alertTarget];
}

/**
 * Resolves every target as an alert's own would be (eligible devices only, the named
 * user's registration on a shared device) and merges the results: a device reached by two
 * targets is listed once, and every target that reached none says why.
 */
export async function resolveTargets(targets: readonly AlertTarget[], directory: DeviceSource, options: ResolveOptions = {}): Promise<Resolution> {
  const resolutions = await Promise.all(targets.map((target) => resolveTarget(target, directory, options)));
  const merged: Resolution = { devices: [], skipped: [] };
  const seen = new Set<string>();
  for (const { devices, skipped } of resolutions) {
    for (const device of devices) {
      const key = `${device.device_id}\n${device.registration_id ?? ""}`;
      if (seen.has(key)) continue;
      seen.add(key);
      merged.devices.push(device);
    }
    merged.skipped.push(...skipped);
  }
  return merged;
}
