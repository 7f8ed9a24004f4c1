import type { Device } from "../dispatch/dex/schemas";
import type { AlertTarget } from "../sources/alert";
import type { DeviceDirectory } from "./device-directory";

/** A device a command can be sent to. */
export interface ResolvedDevice {
  device_id: string;
  user_email: string;
  registration_id?: string;
  name?: string;
}

/** Why a target did not become a device. */
export interface SkippedTarget {
  reason: "device-not-found" | "device-ineligible";
  detail: string;
  device_id?: string;
}

export interface Resolution {
  devices: ResolvedDevice[];
  skipped: SkippedTarget[];
}

/**
 * Turns what an alert says about its target into devices. `device_id` with `user_email`
 * is used as given; otherwise the device is looked up by email, else by host name
 * (narrowed by both when both are known). Only devices connected in the last hour and
 * eligible for remote captures come back; the others are reported with the API's reason.
 */
export async function resolveTarget(target: AlertTarget, directory: DeviceDirectory): Promise<Resolution> {
  if (target.device_id && target.user_email) {
    return {
      devices: [{ device_id: target.device_id, user_email: target.user_email, registration_id: target.registration_id }],
      skipped: [],
    };
  }
  // Search by the short host name: the API matches substrings of the device's name, which
  // is rarely the fully qualified one.
  const term = target.user_email ?? target.hostname?.split(".")[0];
  if (!term) {
    return notFound(
      target.device_id
        ? "the alert gives device_id without user_email or hostname; add one of them"
        : "the alert names no device: no device_id, user_email or hostname",
    );
  }
  const candidates = (await directory.search(term)).filter((device) => matchesTarget(device, target));
  if (candidates.length === 0) {
    return notFound(`no device connected in the last hour matches ${describe(target)}`);
  }
  return partition(onePerDevice(candidates, target));
}

function matchesTarget(device: Device, target: AlertTarget): boolean {
  if (target.user_email && !sameText(device.personEmail, target.user_email)) return false;
  if (target.hostname && !sameHost(device.deviceName, target.hostname)) return false;
  if (target.device_id && device.deviceId !== target.device_id) return false;
  if (target.registration_id && device.registrationId !== target.registration_id) return false;
  return true;
}

/**
 * A multi-user device is listed once per registration. When the alert names the user,
 * the filter above already kept that user's registration; when it names only the host,
 * the most recently seen registration is the session to capture.
 */
function onePerDevice(devices: Device[], target: AlertTarget): Device[] {
  if (target.user_email) return devices;
  const latest = new Map<string, Device>();
  for (const device of devices) {
    const seen = latest.get(device.deviceId);
    if (!seen || (device.timestamp ?? "") > (seen.timestamp ?? "")) latest.set(device.deviceId, device);
  }
  return [...latest.values()];
}

function partition(devices: Device[]): Resolution {
  const resolution: Resolution = { devices: [], skipped: [] };
  const seen = new Set<string>();
  for (const device of devices) {
    const key = `${device.deviceId}\n${device.registrationId ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (device.eligible === false || !device.personEmail) {
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

/** `jane-mbp`, `JANE-MBP` and `jane-mbp.corp.example.com` name the same machine. */
function sameHost(deviceName: string | null | undefined, hostname: string): boolean {
  if (!deviceName) return false;
  const short = (name: string) => name.trim().toLowerCase().split(".")[0];
  return sameText(deviceName, hostname) || short(deviceName) === short(hostname);
}

function describe(target: AlertTarget): string {
  return Object.entries(target)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}
