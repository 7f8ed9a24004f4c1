import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { paginate } from "../../dev/dex-stand-in/list-query";
import type { AlertTarget } from "../../src/model/alert";
import type { Device } from "../../src/model/dex-api";
import { createDeviceDirectory, foundDevices } from "../../src/resolve/device-directory";
import { DEVICE_PAGE_SIZE, type DeviceLookupApi } from "../../src/resolve/device-list";
import { resolveTarget, searchTermOf, type HostnameMatch } from "../../src/resolve/resolve-target";

/**
 * Resolving targets from one read of the whole device list gives exactly what searching the
 * devices API term by term gives: the same devices in the same order, the same registration
 * on a shared device, the same refusals (ambiguous host names, ineligible devices, devices
 * not found) with the same words. Fleets are drawn from few names, emails and ids, so that
 * substrings, case, shared devices, duplicate host names and ineligible devices meet often;
 * large fleets make one search run past the pages a search reads (MAX_DEVICE_PAGES).
 */
const TIMEOUT_MS = 60_000;

const NAMES = [
  "JANE-MBP",
  "jane-mbp",
  "JANE-MBP-2",
  "MBP",
  "SAM-XPS13",
  "sam-xps13.corp.example.com",
  "BUILD-07",
  "build-07.prod.internal",
  "LOBBY-KIOSK-01",
  "kiosk",
  "MacBook-Pro",
  "",
];
const EMAILS = [
  "jane.doe@example.com",
  "Jane.Doe@Example.com",
  "doe@example.com",
  "sam@example.com",
  "ci@example.com",
  "front.desk@example.com",
  "night.shift@example.com",
  "",
];
const IDS = ["d-1", "d-2", "d-3", "d-4", "d-5", "d-6"];
const REGISTRATIONS = Array.from({ length: 40 }, (_, i) => `r-${i + 1}`);
const TIMES = ["2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", "2026-11-25T11:30:00Z"];

const device: fc.Arbitrary<Device> = fc.record({
  deviceId: fc.constantFrom(...IDS),
  deviceName: fc.constantFrom(...NAMES),
  personEmail: fc.constantFrom(...EMAILS),
  registrationId: fc.constantFrom(...REGISTRATIONS),
  eligible: fc.boolean(),
  ineligibleReason: fc.constantFrom(null, "WARP client too old", "Remote captures are not supported on mobile devices"),
  timestamp: fc.constantFrom(...TIMES),
});

/** What an alert or a rule's fixed target may name, spelled the ways senders spell it. */
const spelled = (values: readonly string[]) =>
  fc
    .tuple(fc.constantFrom(...values.filter(Boolean)), fc.constantFrom("as is", "upper", "lower", "padded"))
    .map(([value, how]) => (how === "upper" ? value.toUpperCase() : how === "lower" ? value.toLowerCase() : how === "padded" ? ` ${value} ` : value));
const target: fc.Arbitrary<AlertTarget> = fc.record(
  {
    device_id: fc.constantFrom(...IDS, "d-unknown"),
    user_email: spelled([...EMAILS, "nobody@example.com"]),
    registration_id: fc.constantFrom(...REGISTRATIONS.slice(0, 8)),
    hostname: spelled([...NAMES, "jane-mbp.corp.example.com", "SAM-XPS13", "pc"]),
  },
  { requiredKeys: [] },
);
const hostnameMatch = fc.constantFrom<HostnameMatch>("exact", "short-name");

/** A fleet as the API lists it: each registration of a device once. */
const fleetOf = (maxLength: number) => fc.uniqueArray(device, { maxLength, selector: (d) => `${d.deviceId}\n${d.registrationId}` });

/** The devices endpoint over `fleet`, as the API (and the stand-in) pages and searches it. */
function devicesApi(fleet: readonly Device[]): DeviceLookupApi {
  const page = (devices: readonly Device[], n = 1, perPage = DEVICE_PAGE_SIZE) => {
    const { items, resultInfo } = paginate(devices, { page: n, perPage });
    return Promise.resolve({ devices: items, resultInfo });
  };
  return {
    searchDevices(search, n, perPage) {
      const needle = search.trim().toLowerCase();
      return page(
        fleet.filter((d) => d.deviceName?.toLowerCase().includes(needle) || d.personEmail?.toLowerCase().includes(needle)),
        n,
        perPage,
      );
    },
    listDevices: (n, perPage) => page(fleet, n, perPage),
  };
}

/** Resolves every target from one round of lookups, read the way `strategy` says. */
async function resolveAll(fleet: readonly Device[], targets: readonly AlertTarget[], match: HostnameMatch, strategy: "search" | "list") {
  // A dry run's directory: nothing is cached between the two ways, or between runs.
  const directory = createDeviceDirectory(devicesApi(fleet), env.RELAY_KV, `acct-${strategy}`, { readOnly: true, strategy });
  const terms = targets.flatMap((t) => searchTermOf(t, { hostname_match: match }) ?? []);
  const round = await directory.lookUp(terms);
  if (terms.length > 0) expect(round.step).toBe(strategy);
  expect(round.waiting).toBeUndefined();
  expect(round.failed.size).toBe(0);
  return Promise.all(targets.map((t) => resolveTarget(t, foundDevices(round), { hostname_match: match })));
}

async function sameEitherWay(fleet: readonly Device[], targets: readonly AlertTarget[], match: HostnameMatch) {
  const searched = await resolveAll(fleet, targets, match, "search");
  const listed = await resolveAll(fleet, targets, match, "list");
  expect(listed).toEqual(searched);
}

describe("device lookups: the list read and the searches agree", () => {
  it(
    "for any fleet and any targets",
    async () => {
      vi.spyOn(console, "log").mockImplementation(() => undefined);
      await fc.assert(fc.asyncProperty(fleetOf(120), fc.array(target, { minLength: 1, maxLength: 8 }), hostnameMatch, sameEitherWay), { numRuns: 300 });
    },
    TIMEOUT_MS,
  );

  it(
    "when a search matches more devices than a search reads",
    async () => {
      vi.spyOn(console, "log").mockImplementation(() => undefined);
      // Hundreds of devices whose names contain "mbp": the search for "MBP" stops after 250.
      const crowd = fc.integer({ min: 240, max: 330 }).chain((n) =>
        fc.array(device, { minLength: n, maxLength: n }).map((devices) =>
          devices.map((d, i) => ({
            ...d,
            registrationId: `rc-${i}`,
            ...(i % 7 === 0 ? {} : { deviceId: `m-${i}`, deviceName: i % 3 === 0 ? "MBP" : `MBP-${i}` }),
          })),
        ),
      );
      const mbpTarget = fc.oneof(
        target,
        fc.constantFrom<AlertTarget>(
          { hostname: "MBP" },
          { hostname: "mbp" },
          { hostname: "MBP-7" },
          { hostname: "MBP-301" },
          { user_email: "doe@example.com" },
        ),
      );
      await fc.assert(fc.asyncProperty(crowd, fc.array(mbpTarget, { minLength: 1, maxLength: 5 }), hostnameMatch, sameEitherWay), { numRuns: 40 });
    },
    TIMEOUT_MS,
  );
});
