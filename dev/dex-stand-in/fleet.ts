import type { AccountDevice } from "./devices";

/**
 * A generated fleet the stand-in can enrol on top of its seed, for scale tests and
 * benchmarks: `count` physical devices with realistic names and emails, the same for the
 * same count every time, so a test or a benchmark can name any of them (`fleetDevice(i)`).
 * Most are laptops and desktops of one person each; every tenth person also has a phone (not
 * eligible, as in DEX); one device in fifty runs a WARP client too old for captures; one in
 * two hundred is shared by two people (two registrations, as the API lists a multi-user
 * device).
 */
export const MAX_FLEET = 50_000;

const FIRST = [
  "ava",
  "ben",
  "chloe",
  "dev",
  "elena",
  "farid",
  "grace",
  "hugo",
  "isla",
  "jun",
  "kofi",
  "lena",
  "mateo",
  "nia",
  "omar",
  "priya",
  "quinn",
  "rosa",
  "sven",
  "tara",
  "umar",
  "vera",
  "wen",
  "yusuf",
  "zoe",
  "aiko",
  "bruno",
  "carmen",
  "dmitri",
  "esme",
  "felix",
  "gita",
];
const LAST = [
  "nguyen",
  "smith",
  "garcia",
  "okafor",
  "kowalski",
  "tanaka",
  "silva",
  "murphy",
  "haddad",
  "larsen",
  "chen",
  "patel",
  "rossi",
  "novak",
  "kim",
  "dubois",
  "ibrahim",
  "schmidt",
  "moreau",
  "costa",
  "walsh",
  "ito",
  "jensen",
  "reyes",
  "mensah",
  "fischer",
  "lopez",
  "sato",
  "brennan",
  "ahmed",
  "kaur",
  "berg",
];
const CURRENT_WARP = "2025.9.558.0";
const OLD_WARP = "2024.6.415.0";

/** The person who uses fleet device `i` (a phone's owner is the person of the device before it). */
function personOf(i: number): { email: string; first: string; last: string } {
  const person = i % 10 === 9 ? i - 1 : i;
  const first = FIRST[person % FIRST.length]!;
  const last = LAST[Math.floor(person / FIRST.length) % LAST.length]!;
  const round = Math.floor(person / (FIRST.length * LAST.length));
  return { email: `${first}.${last}${round > 0 ? round + 1 : ""}@example.com`, first, last };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** A Windows default name: DESKTOP- and seven letters and digits, fixed by `i`. */
function windowsName(i: number): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  let n = (i + 1) * 2654435761;
  let name = "";
  for (let k = 0; k < 7; k++) {
    name += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length) + (k + 1) * 7919;
  }
  return `DESKTOP-${name}`;
}

/** Fleet device `i` (0-based), as the devices endpoint lists it: one entry per registration. */
export function fleetDevice(i: number, now: Date): AccountDevice[] {
  const { email, first, last } = personOf(i);
  const asset = String(i).padStart(5, "0");
  const phone = i % 10 === 9;
  const kind = phone
    ? "ios"
    : [
        "mac",
        "mac",
        "mac",
        "mac",
        "mac",
        "mac",
        "mac",
        "mac",
        "mac",
        "windows",
        "windows",
        "windows",
        "windows",
        "windows",
        "windows",
        "windows",
        "windows",
        "linux",
        "linux",
        "linux",
      ][i % 20]!;
  const deviceName =
    kind === "ios"
      ? `${first}-${last}-iphone-${asset}`
      : kind === "mac"
        ? `${first[0]}${last}-MBP-${asset}`.toUpperCase()
        : kind === "windows"
          ? windowsName(i)
          : `${first}-${last}-thinkpad-${asset}`;
  const old = !phone && i % 50 === 7;
  const base: AccountDevice = {
    deviceId: `f1ee7000-${hex(Math.floor(i / 0x10000), 4)}-4000-8000-${hex(i, 12)}`,
    deviceName,
    personEmail: email,
    platform: kind,
    status: "connected",
    registrationId: `f1ee7000-${hex(Math.floor(i / 0x10000), 4)}-4000-9000-${hex(i * 2, 12)}`,
    eligible: !phone && !old,
    ineligibleReason: phone
      ? "Remote captures are not supported on mobile devices"
      : old
        ? `WARP client version ${OLD_WARP} does not support remote captures`
        : null,
    timestamp: new Date(now.getTime() - ((i * 37) % 2_900) * 1000).toISOString(),
    version: phone ? "1.9.2" : old ? OLD_WARP : CURRENT_WARP,
  };
  if (phone || i % 200 !== 123) return [base];
  // A shared machine: the next person's registration on it too, seen a little earlier.
  const other = personOf(i + 1);
  return [
    base,
    {
      ...base,
      personEmail: other.email,
      registrationId: `f1ee7000-${hex(Math.floor(i / 0x10000), 4)}-4000-9000-${hex(i * 2 + 1, 12)}`,
      timestamp: new Date(Date.parse(base.timestamp) - 600_000).toISOString(),
    },
  ];
}

/** `count` fleet devices as the devices endpoint lists them at `now`. */
export function fleetDevices(count: number, now: Date): AccountDevice[] {
  const devices: AccountDevice[] = [];
  for (let i = 0; i < count; i++) devices.push(...fleetDevice(i, now));
  return devices;
}
