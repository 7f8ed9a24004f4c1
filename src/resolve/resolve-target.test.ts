import { describe, expect, it } from "vitest";
import type { Device } from "../model/dex-api";
import { fakeDirectory } from "../../test/helpers/fakes";
import { resolveTarget } from "./resolve-target";

const devices: Device[] = [
  { deviceId: "d-jane", deviceName: "JANE-MBP", personEmail: "jane.doe@example.com", eligible: true, registrationId: "r-jane" },
  { deviceId: "d-jane-2", deviceName: "JANE-LINUX", personEmail: "jane.doe@example.com", eligible: true },
  { deviceId: "d-old", deviceName: "OLD-PC", personEmail: "old@example.com", eligible: false, ineligibleReason: "WARP client too old" },
  {
    deviceId: "d-kiosk",
    deviceName: "LOBBY-KIOSK-01",
    personEmail: "amy@example.com",
    registrationId: "r-amy",
    eligible: true,
    timestamp: "2026-11-25T10:00:00Z",
  },
  {
    deviceId: "d-kiosk",
    deviceName: "LOBBY-KIOSK-01",
    personEmail: "bo@example.com",
    registrationId: "r-bo",
    eligible: true,
    timestamp: "2026-11-25T11:00:00Z",
  },
  { deviceId: "d-build", deviceName: "BUILD-LINUX-07", personEmail: "ci@example.com", registrationId: "r-build", eligible: true },
  { deviceId: "d-mbp-1", deviceName: "MacBook-Pro", personEmail: "ann@example.com", eligible: true },
  { deviceId: "d-mbp-2", deviceName: "MacBook-Pro", personEmail: "ben@example.com", eligible: true },
];

const directory = () => fakeDirectory(devices);

describe("resolveTarget", () => {
  it("looks up device_id with user_email too, and takes it only when the API lists that device for that user", async () => {
    const dir = directory();
    const result = await resolveTarget({ device_id: "d-jane", user_email: "jane.doe@example.com" }, dir);
    expect(result.devices).toEqual([{ device_id: "d-jane", user_email: "jane.doe@example.com", registration_id: "r-jane", name: "JANE-MBP" }]);
    expect(dir.terms).toEqual(["jane.doe@example.com"]);
    // Someone else's email with Jane's device, or a device nobody lists: nothing.
    for (const target of [
      { device_id: "d-jane", user_email: "attacker@evil.example" },
      { device_id: "d-jane", user_email: "sam@example.com" },
      { device_id: "d-x", user_email: "jane.doe@example.com" },
    ]) {
      expect(await resolveTarget(target, directory())).toMatchObject({ devices: [], skipped: [{ reason: "device-not-found" }] });
    }
  });

  it("refuses a registration that does not belong to the named user", async () => {
    const result = await resolveTarget({ device_id: "d-kiosk", user_email: "amy@example.com", registration_id: "r-bo" }, directory());
    expect(result).toMatchObject({ devices: [], skipped: [{ reason: "device-not-found" }] });
    const own = await resolveTarget({ device_id: "d-kiosk", user_email: "amy@example.com", registration_id: "r-amy" }, directory());
    expect(own.devices).toEqual([{ device_id: "d-kiosk", user_email: "amy@example.com", registration_id: "r-amy", name: "LOBBY-KIOSK-01" }]);
  });

  it("reports an ineligible device named directly as device-ineligible", async () => {
    const result = await resolveTarget({ device_id: "d-old", user_email: "old@example.com" }, directory());
    expect(result).toEqual({ devices: [], skipped: [{ reason: "device-ineligible", device_id: "d-old", detail: "WARP client too old" }] });
  });

  it("matches host names exactly (case aside) unless the rule says short-name", async () => {
    const server = { hostname: "build-linux-07.prod.internal" };
    expect(await resolveTarget(server, directory())).toMatchObject({ devices: [], skipped: [{ reason: "device-not-found" }] });
    expect((await resolveTarget({ hostname: "build-linux-07" }, directory())).devices.map((d) => d.device_id)).toEqual(["d-build"]);
    const short = await resolveTarget(server, directory(), { hostname_match: "short-name" });
    expect(short.devices.map((d) => d.device_id)).toEqual(["d-build"]);
  });

  it("refuses a host name that names more than one device, rather than fanning out", async () => {
    const result = await resolveTarget({ hostname: "MacBook-Pro" }, directory());
    expect(result.devices).toEqual([]);
    expect(result.skipped).toEqual([{ reason: "device-ambiguous", detail: expect.stringMatching(/^host name MacBook-Pro matches 2 devices/) }]);
  });

  it("finds every eligible device of a user by email", async () => {
    const result = await resolveTarget({ user_email: "Jane.Doe@example.com" }, directory());
    expect(result.devices.map((d) => d.device_id)).toEqual(["d-jane", "d-jane-2"]);
    expect(result.devices[0]).toMatchObject({ user_email: "jane.doe@example.com", registration_id: "r-jane" });
  });

  it("narrows by host name when both email and host are known", async () => {
    const result = await resolveTarget({ user_email: "jane.doe@example.com", hostname: "jane-mbp" }, directory());
    expect(result.devices.map((d) => d.device_id)).toEqual(["d-jane"]);
  });

  it("searches by the short host name when the rule says short-name", async () => {
    const dir = directory();
    const result = await resolveTarget({ hostname: "JANE-MBP.corp.example.com" }, dir, { hostname_match: "short-name" });
    expect(dir.terms).toEqual(["jane-mbp"]);
    expect(result.devices.map((d) => d.device_id)).toEqual(["d-jane"]);
  });

  it("gives a multi-user device the registration of the named user", async () => {
    const result = await resolveTarget({ user_email: "amy@example.com" }, directory());
    expect(result.devices).toEqual([{ device_id: "d-kiosk", user_email: "amy@example.com", registration_id: "r-amy", name: "LOBBY-KIOSK-01" }]);
  });

  it("targets a multi-user device once, by its latest registration, when only the host is known", async () => {
    const result = await resolveTarget({ hostname: "lobby-kiosk-01" }, directory());
    expect(result.devices).toEqual([{ device_id: "d-kiosk", user_email: "bo@example.com", registration_id: "r-bo", name: "LOBBY-KIOSK-01" }]);
  });

  it("skips an ineligible device with the API's reason", async () => {
    const result = await resolveTarget({ user_email: "old@example.com" }, directory());
    expect(result.devices).toEqual([]);
    expect(result.skipped).toEqual([{ reason: "device-ineligible", device_id: "d-old", detail: "WARP client too old" }]);
  });

  it("reports an unknown device and a target that names none", async () => {
    expect((await resolveTarget({ user_email: "nobody@example.com" }, directory())).skipped[0]).toMatchObject({
      reason: "device-not-found",
      detail: expect.stringContaining("user_email=nobody@example.com"),
    });
    expect((await resolveTarget({}, directory())).skipped[0]?.reason).toBe("device-not-found");
    expect((await resolveTarget({ device_id: "d-x" }, directory())).skipped[0]?.detail).toMatch(/without user_email or hostname/);
    expect((await resolveTarget({ registration_id: "r-amy" }, directory())).skipped[0]?.detail).toMatch(/without user_email or hostname/);
  });

  it("does not take a substring match for the user", async () => {
    const result = await resolveTarget({ user_email: "doe@example.com" }, directory());
    expect(result.devices).toEqual([]);
  });
});
