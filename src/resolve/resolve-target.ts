import type { Device } from "../model/dex-api";
import type { AlertTarget } from "../model/alert";

/** Devices as the DEX devices endpoint's `search` finds them: by a name or email substring. */
export interface DeviceSource {
  search(term: string): Promise<readonly Device[]>;
}

/** A device a command can be sent to. */
export interface ResolvedDevice {
  device_id: string;
  user_email: string;
  registration_id?: string;
  name?: string;
}

/** Why a target did not become a device. */
export interface SkippedTarget {
  reason: "device-not-found" | "device-ineligible" | "device-ambiguous";
  detail: string;
  device_id?: string;
}

export interface Resolution {
  devices: ResolvedDevice[];
  skipped: SkippedTarget[];
}

/** How a host name from an alert is compared with a device's name (a rule's `hostname_match`). */
export type HostnameMatch = "exact" | "short-name";

export interface ResolveOptions {
  /** `exact` (case-insensitive) unless the rule says `short-name`. A rule can be passed as is. */
  hostname_match?: HostnameMatch;
}

/**
 * Turns what an alert says about its target into devices, always through the DEX devices
 * API: nothing the sender says is used as given. The device is searched by email, else by
 * host name (the API cannot search by id), and every field the alert gives must agree with
 * what the API lists: the device id, the email, the registration (which must be that
 * user's), and the host name. Only devices connected in the last hour and eligible for
 * remote captures come back; the others are reported with the API's reason. A host name
 * alone that names more than one device is refused, never fanned out.
 */
export async function resolveTarget(target: AlertTarget, directory: DeviceSource, options: ResolveOptions = {}): Promise<Resolution> {
  const hostnameMatch = options.hostname_match ?? "exact";
  const hostname = target.hostname?.trim();
  const term = searchTermOf(target, options);
  if (!term) {
    return notFound(
      target.device_id || target.registration_id
        ? "the alert gives a device or registration id without user_email or hostname, and the devices API searches by those only; add one of them"
        : "the alert names no device: no device_id, user_email or hostname",
    );
  }
  const candidates = (await directory.search(term)).filter((device) => matchesTarget(device, target, hostnameMatch));
  if (candidates.length === 0) {
    return notFound(`no device connected in the last hour matches ${describe(target)}`);
  }
  if (!target.user_email && !target.device_id) {
    const ids = [...new Set(candidates.map((d) => d.deviceId))];
    if (ids.length > 1) {
      return {
        devices: [],
        skipped: [
          {
            reason: "device-ambiguous",
            detail: `host name ${hostname} matches ${ids.length} devices (${names(candidates)}); name the device by user_email or device_id, or make the host name exact`,
          },
        ],
      };
    }
  }
  return partition(onePerDevice(candidates, target));
}

/**
 * What the devices API is searched by for `target`: its email, else its host name (the short
 * name with `short-name`); undefined when it names neither. Device lookups are planned with it
 * before anything is resolved.
 */
export function searchTermOf(target: AlertTarget, options: ResolveOptions = {}): string | undefined {
  const hostname = target.hostname?.trim();
  return target.user_email?.trim() || (hostname && (options.hostname_match === "short-name" ? shortName(hostname) : hostname)) || undefined;
}

function matchesTarget(device: Device, target: AlertTarget, hostnameMatch: HostnameMatch): boolean {
  if (target.user_email && !sameText(device.personEmail, target.user_email)) return false;
  if (target.hostname && !sameHost(device.deviceName, target.hostname, hostnameMatch)) return false;
  if (target.device_id && device.deviceId !== target.device_id.trim()) return false;
  if (target.registration_id && device.registrationId !== target.registration_id.trim()) return false;
  return true;
}

/**
 * A multi-user device is listed once per registration. When the alert names the user,
 * the filter above already kept that user's registration; when it names only the host,
 * the most recently seen registration is the session to capture.
 */
function onePerDevice(devices: readonly Device[], target: AlertTarget): readonly Device[] {
  if (target.user_email || target.registration_id) return devices;
  const latest = new Map<string, Device>();
  for (const device of devices) {
    const seen = latest.get(device.deviceId);
    if (!seen || (device.timestamp ?? "") > (seen.timestamp ?? "")) latest.set(device.deviceId, device);
  }
  return [...latest.values()];
}

function partition(devices: readonly Device[]): Resolution {
  const resolution: Resolution = { devices: [], skipped: [] };
  const seen = new Set<string>();
  for (const device of devices) {
    const key = `${device.deviceId}\n${device.registrationId ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (device.eligible !== true || !device.personEmail) {
      resolution.skipped.push({
        reason: "device-ineligible",
        device_id: device.deviceId,
        detail: device.ineligibleReason ?? (device.personEmail ? "not eligible for remote captures" : "no user email on the device"),
      });
      continue;
    }
    resolution.devices.push({
      device_id: device.deviceId,
      user_email: device.personEmail,
      registration_id: device.registrationId ?? undefined,
      name: device.deviceName ?? undefined,
    });
  }
  return resolution;
}

function notFound(detail: string): Resolution {
  return { devices: [], skipped: [{ reason: "device-not-found", detail }] };
}

function sameText(a: string | null | undefined, b: string): boolean {
  return !!a && a.trim().toLowerCase() === b.trim().toLowerCase();
}

function shortName(name: string): string {
  return name.trim().toLowerCase().split(".")[0] ?? "";
}

/**
 * `JANE-MBP` and `jane-mbp` name the same machine. Only with `short-name` does
 * `jane-mbp.corp.example.com` too: a server `build-07.prod.internal` is not the laptop
 * `BUILD-07` unless a rule says its alerts use that convention.
 */
function sameHost(deviceName: string | null | undefined, hostname: string, hostnameMatch: HostnameMatch): boolean {
  if (!deviceName) return false;
  if (sameText(deviceName, hostname)) return true;
  return hostnameMatch === "short-name" && shortName(deviceName) === shortName(hostname);
}

/** Up to three device names, for a reason that stays short. */
function names(devices: readonly Device[]): string {
  const all = [...new Set(devices.map((d) => d.deviceName ?? d.deviceId))];
  return all.length > 3 ? `${all.slice(0, 3).join(", ")}, …` : all.join(", ");
}

function describe(target: AlertTarget): string {
  return Object.entries(target)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}
