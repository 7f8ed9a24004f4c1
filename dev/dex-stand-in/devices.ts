/**
 * The devices the stand-in knows: what `GET /dex/commands/devices` lists (devices
 * connected in the last hour). A multi-user device appears once per registration, as in
 * the API.
 */
export interface AccountDevice {
  deviceId: string;
  deviceName: string;
  personEmail: string;
  platform: string;
  status: string;
  registrationId: string;
  eligible: boolean;
  ineligibleReason: string | null;
  /** When the device last reported. */
  timestamp: string;
  version: string;
}

/**
 * A device of the seed. Ids are fixed so docs, rules and curl examples can name them;
 * the last report is kept relative to "now", so a seeded device is always within the hour.
 */
export interface SeededDevice extends Omit<AccountDevice, "timestamp"> {
  /** How long before "now" the device last reported. */
  lastSeenSecondsAgo: number;
}

const CURRENT_WARP = "2025.9.558.0";

export const SEEDED_DEVICES: readonly SeededDevice[] = [
  {
    deviceId: "3f6c2a1e-7b4d-4e8a-9c1f-5d2b8e7a6c01",
    deviceName: "JANE-MBP",
    personEmail: "jane.doe@example.com",
    platform: "mac",
    status: "connected",
    registrationId: "b7e4d2c1-9a3f-4b6e-8d5c-1f2a3b4c5d01",
    eligible: true,
    ineligibleReason: null,
    version: CURRENT_WARP,
    lastSeenSecondsAgo: 45,
  },
  {
    deviceId: "8a1d5e3c-2f7b-4c9a-b6e4-0d3f9c2a7b02",
    deviceName: "SAM-XPS13",
    personEmail: "sam.lee@example.com",
    platform: "windows",
    status: "connected",
    registrationId: "c2a9f7e5-4b1d-4e3a-9f6c-7d8e2a1b3c02",
    eligible: true,
    ineligibleReason: null,
    version: CURRENT_WARP,
    lastSeenSecondsAgo: 120,
  },
  // A shared kiosk: one device, two users' registrations. Commands must name the registration.
  {
    deviceId: "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03",
    deviceName: "LOBBY-KIOSK-01",
    personEmail: "front.desk@example.com",
    platform: "linux",
    status: "connected",
    registrationId: "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d31",
    eligible: true,
    ineligibleReason: null,
    version: CURRENT_WARP,
    lastSeenSecondsAgo: 30,
  },
  {
    deviceId: "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03",
    deviceName: "LOBBY-KIOSK-01",
    personEmail: "night.shift@example.com",
    platform: "linux",
    status: "connected",
    registrationId: "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d32",
    eligible: true,
    ineligibleReason: null,
    version: CURRENT_WARP,
    lastSeenSecondsAgo: 900,
  },
  {
    deviceId: "2e7b9d4f-1c6a-4f3e-8b2d-9a5c7e1f4b04",
    deviceName: "RAJ-THINKPAD",
    personEmail: "raj.patel@example.com",
    platform: "windows",
    status: "connected",
    registrationId: "e9b3c6d2-7f4a-4c1e-b8d9-2a6f5e3c7b04",
    eligible: false,
    ineligibleReason: "WARP client version 2024.6.415.0 does not support remote captures",
    version: "2024.6.415.0",
    lastSeenSecondsAgo: 600,
  },
  {
    deviceId: "7d4a2f9c-5e1b-4b7d-a3c6-8e9f1d2b5a05",
    deviceName: "JANE-IPHONE",
    personEmail: "jane.doe@example.com",
    platform: "ios",
    status: "connected",
    registrationId: "f1c8e5b3-2d9a-4e6f-9b7c-4a3d2e1f8c05",
    eligible: false,
    ineligibleReason: "Remote captures are not supported on mobile devices",
    version: "1.9.2",
    lastSeenSecondsAgo: 300,
  },
  {
    deviceId: "9b3e6c1d-4a8f-4d2b-8c7e-6f5a4b3c2d06",
    deviceName: "BUILD-LINUX-07",
    personEmail: "priya.shah@example.com",
    platform: "linux",
    status: "connected",
    registrationId: "a5d2b9e7-8c3f-4a1d-b6e9-5c4b3a2f1e06",
    eligible: true,
    ineligibleReason: null,
    version: CURRENT_WARP,
    lastSeenSecondsAgo: 1500,
  },
];

/** The seeded devices as the API lists them at `now`: the stand-in's devices unless it is given others. */
export function seededDevicesAt(now: Date): AccountDevice[] {
  return SEEDED_DEVICES.map(({ lastSeenSecondsAgo, ...device }) => ({
    ...device,
    timestamp: new Date(now.getTime() - lastSeenSecondsAgo * 1000).toISOString(),
  }));
}

/** Every registration of one physical device: more than one means a multi-user device. */
export function registrationsOf(devices: readonly AccountDevice[], deviceId: string): AccountDevice[] {
  return devices.filter((d) => d.deviceId === deviceId);
}

/** How many physical devices there are (a multi-user device counts once). */
export function physicalDeviceCount(devices: readonly AccountDevice[]): number {
  return new Set(devices.map((d) => d.deviceId)).size;
}

/** Devices whose name or user email contains `search`, ignoring case; all of them for "". */
export function searchDevices(devices: readonly AccountDevice[], search: string): AccountDevice[] {
  const needle = search.trim().toLowerCase();
  return devices.filter((d) => d.deviceName.toLowerCase().includes(needle) || d.personEmail.toLowerCase().includes(needle));
}
