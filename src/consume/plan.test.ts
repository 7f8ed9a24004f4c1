import { describe, expect, it, vi } from "vitest";
import { compileRules, fakeDirectory } from "../../test/helpers/fakes";
import { DexApiError } from "../model/dex-api-error";
import type { Device } from "../model/dex-api";
import type { NormalizedAlert } from "../model/alert";
import { Delivery } from "./delivery";
import { planDeliveries, type PlanContext } from "./plan";

const rules = (raw: unknown[]) => compileRules(raw, ["zapier", "alertmanager"]);

const JANE: Device = { deviceId: "d-jane", deviceName: "JANE-MBP", personEmail: "jane.doe@example.com", registrationId: "r-jane", eligible: true };

function alert(overrides: Partial<NormalizedAlert> = {}): NormalizedAlert {
  return {
    source: "alertmanager",
    episode: "alertmanager:fp1:2026-11-25T09:00:00Z",
    title: "WARP tunnel packet loss",
    severity: "critical",
    firing: true,
    status: "firing",
    labels: {},
    target: { user_email: JANE.personEmail! },
    ...overrides,
  };
}

function delivery(alerts: NormalizedAlert[], more: { pending?: number[]; received_at?: string } = {}) {
  const retries: Array<number | undefined> = [];
  return new Delivery(
    { version: 2, delivery_id: "00000000-0000-4000-8000-0000000000aa", source: "alertmanager", received_at: "2026-11-25T09:00:01Z", alerts, ...more },
    { id: "m-1", attempts: 1, ack() {}, retry: (options?: QueueRetryOptions) => retries.push(options?.delaySeconds) },
  );
}

const planDelivery = (work: Delivery, ctx: PlanContext) => planDeliveries([work], ctx);

const warpDiag = { name: "warp-diag-on-critical", match: { severity: ["critical"] }, command: { type: "warp-diag" } };

describe("planDelivery", () => {
  it("plans one command per matching rule and resolved device, with the device's registration", async () => {
    const work = delivery([alert()]);
    const ctx: PlanContext = { rules: rules([warpDiag]), directory: fakeDirectory([JANE]) };
    const planned = await planDelivery(work, ctx);
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({ alert: 0, rule: { name: "warp-diag-on-critical" } });
    expect(planned[0]!.command).toEqual({ type: "warp-diag", device_id: "d-jane", user_email: "jane.doe@example.com", registration_id: "r-jane" });
    expect(work.decisions).toEqual([]);
  });

  it("decides at once for alerts that are not firing, match no rule, or name no device", async () => {
    const work = delivery([alert({ firing: false, status: "resolved" }), alert({ severity: "info" }), alert({ target: { user_email: "nobody@example.com" } })]);
    const planned = await planDelivery(work, { rules: rules([warpDiag]), directory: fakeDirectory([JANE]) });
    expect(planned).toEqual([]);
    expect(work.decisions.map((d) => [d.alert, d.outcome])).toEqual([
      [0, "not-firing"],
      [1, "no-rule"],
      [2, "device-not-found"],
    ]);
    expect(work.retryAfterSeconds).toBeUndefined();
  });

  it("leaves an alert whose lookup the API budget cannot pay for waiting, whole, with how long the budget said", async () => {
    const work = delivery([alert(), alert({ episode: "sam", target: { user_email: "sam.lee@example.com" } })]);
    const limited = new DexApiError("rate-limited", "DEX API calls are held for 120 s", { retryAfterSeconds: 120 });
    const planned = await planDelivery(work, {
      rules: rules([warpDiag]),
      directory: fakeDirectory([JANE], (term) => (term === JANE.personEmail ? limited : undefined)),
    });
    expect(planned).toEqual([]);
    expect(work.retryAfterSeconds).toBeUndefined();
    expect(work.budgetWait).toMatchObject({ seconds: 120, calls: 1 });
    expect(work.decisions).toEqual([
      expect.objectContaining({ alert: 0, rule: "warp-diag-on-critical", outcome: "waiting", reason: expect.stringContaining("DEX API budget") }),
      expect.objectContaining({ alert: 1, outcome: "device-not-found" }),
    ]);
    expect(work.continuation().pending).toEqual([0]);
    work.giveUp();
    expect(work.decisions[0]).toMatchObject({ outcome: "failed", reason: expect.stringContaining("dead-letter queue") });
  });

  it("asks the queue to come back when a lookup fails for a passing reason", async () => {
    const work = delivery([alert()]);
    const unavailable = new DexApiError("ambiguous", "DEX API 503: unavailable", { status: 503 });
    await planDelivery(work, { rules: rules([warpDiag]), directory: fakeDirectory([JANE], () => unavailable) });
    expect(work.retryAfterSeconds).toBe(30);
    expect(work.decisions).toEqual([expect.objectContaining({ outcome: "retrying", reason: expect.stringContaining("device lookup failed") })]);
  });

  it("looks up every device a delivery names, with no bound of its own, the most severe alerts first", async () => {
    const alerts = Array.from({ length: 25 }, (_, i) =>
      alert({ episode: `e-${i}`, severity: i === 24 ? "critical" : "error", target: { user_email: `user${i}@example.com` } }),
    );
    const dir = fakeDirectory([]);
    const work = delivery(alerts);
    await planDelivery(work, { rules: rules([{ ...warpDiag, match: {} }]), directory: dir });
    expect(new Set(dir.terms).size).toBe(25);
    expect(dir.terms[0]).toBe("user24@example.com");
    expect(work.decisions.map((d) => d.outcome)).toEqual(Array(25).fill("device-not-found"));
  });

  it("plans only the alerts a continuation names", async () => {
    const work = delivery([alert({ episode: "done-before" }), alert({ episode: "waited" })], { pending: [1] });
    const dir = fakeDirectory([JANE]);
    const planned = await planDelivery(work, { rules: rules([warpDiag]), directory: dir });
    expect(planned.map((p) => [p.alert, p.source.episode])).toEqual([[1, "waited"]]);
  });

  it("one alert's failure is that alert's alone", async () => {
    const poisoned = alert({ episode: "poisoned" });
    // A label getter that throws stands for anything unexpected while matching this one alert.
    Object.defineProperty(poisoned, "labels", {
      get: () => {
        throw new Error("unreadable labels");
      },
    });
    const work = delivery([poisoned, alert({ episode: "healthy" })]);
    const planned = await planDelivery(work, {
      rules: rules([{ ...warpDiag, name: "team-it", match: { labels: { team: "it" } } }, warpDiag]),
      directory: fakeDirectory([JANE]),
    });
    expect(work.decisions).toEqual([expect.objectContaining({ alert: 0, outcome: "failed", reason: expect.stringContaining("unreadable labels") })]);
    expect(planned.map((p) => p.alert)).toEqual([1]);
  });

  it("caps devices beyond the rule's max_devices", async () => {
    const laptops = [1, 2, 3].map((i) => ({ ...JANE, deviceId: `d-${i}`, registrationId: `r-${i}` }));
    const work = delivery([alert()]);
    const planned = await planDelivery(work, { rules: rules([{ ...warpDiag, max_devices: 2 }]), directory: fakeDirectory(laptops) });
    expect(planned.map((p) => p.device.device_id)).toEqual(["d-1", "d-2"]);
    expect(work.decisions).toEqual([expect.objectContaining({ outcome: "capped", device_id: "d-3" })]);
  });

  describe("a rule with fixed targets", () => {
    const SAM: Device = { ...JANE, deviceId: "d-sam", deviceName: "SAM-XPS13", personEmail: "sam.lee@example.com", registrationId: "r-sam" };
    const KIOSK_DAY: Device = { ...JANE, deviceId: "d-kiosk", deviceName: "LOBBY-KIOSK-01", personEmail: "front.desk@example.com", registrationId: "r-day" };
    const KIOSK_NIGHT: Device = { ...KIOSK_DAY, personEmail: "night.shift@example.com", registrationId: "r-night" };
    const PROBE: Device = { ...JANE, deviceId: "d-fixed", deviceName: "NOC-PROBE-1", personEmail: "probe@example.com", registrationId: "r-fixed" };
    const probes = {
      name: "probe-warp-diag",
      max_devices: 1,
      match: { labels: { alert_type: "synthetic_test_low_availability_alert" } },
      command: { type: "warp-diag" },
      targets: [
        { hostname: "JANE-MBP" },
        { user_email: "night.shift@example.com" },
        { device_id: "d-fixed", user_email: "probe@example.com", registration_id: "r-fixed" },
      ],
    };
    const dexAlert = () => alert({ source: "zapier", severity: undefined, labels: { alert_type: "synthetic_test_low_availability_alert" }, target: {} });

    it("sends the command to every target, whatever the alert names, and max_devices does not cut them", async () => {
      const work = delivery([dexAlert()]);
      const planned = await planDelivery(work, { rules: rules([probes]), directory: fakeDirectory([JANE, SAM, KIOSK_DAY, KIOSK_NIGHT, PROBE]) });
      expect(planned.map((p) => p.command)).toEqual([
        { type: "warp-diag", device_id: "d-jane", user_email: "jane.doe@example.com", registration_id: "r-jane" },
        { type: "warp-diag", device_id: "d-kiosk", user_email: "night.shift@example.com", registration_id: "r-night" },
        { type: "warp-diag", device_id: "d-fixed", user_email: "probe@example.com", registration_id: "r-fixed" },
      ]);
      expect(work.decisions).toEqual([]);
    });

    it("targets the listed devices instead of the one the alert names, without asking enrich", async () => {
      const enrich = vi.fn(async () => ({ user_email: SAM.personEmail! }));
      const work = delivery([{ ...dexAlert(), target: { user_email: SAM.personEmail! } }]);
      const planned = await planDelivery(work, {
        rules: rules([{ ...probes, targets: [{ hostname: "JANE-MBP" }] }]),
        directory: fakeDirectory([JANE, SAM]),
        enrich,
      });
      expect(planned.map((p) => p.device.device_id)).toEqual(["d-jane"]);
      expect(enrich).not.toHaveBeenCalled();
    });

    it("records a target that reaches no device, and plans a device two targets reach once", async () => {
      const work = delivery([dexAlert()]);
      const targets = [{ hostname: "JANE-MBP" }, { user_email: "jane.doe@example.com" }, { hostname: "GONE-LAPTOP" }];
      const planned = await planDelivery(work, { rules: rules([{ ...probes, targets }]), directory: fakeDirectory([JANE]) });
      expect(planned.map((p) => p.device.device_id)).toEqual(["d-jane"]);
      expect(work.decisions).toEqual([
        expect.objectContaining({ rule: "probe-warp-diag", outcome: "device-not-found", reason: expect.stringContaining("hostname=GONE-LAPTOP") }),
      ]);
    });

    it("looks its targets up in the same round as the alerts' own, however many there are", async () => {
      const many = Array.from({ length: 45 }, (_, i) => ({ ...JANE, deviceId: `d-${i}`, deviceName: `PROBE-${i}` }));
      const dir = fakeDirectory(many);
      const work = delivery([dexAlert()]);
      const planned = await planDelivery(work, { rules: rules([{ ...probes, targets: many.map((d) => ({ hostname: d.deviceName! })) }]), directory: dir });
      expect(planned).toHaveLength(many.length);
      expect(new Set(dir.terms).size).toBe(many.length);
      expect(work.decisions).toEqual([]);
    });

    it("leaves rules without targets to the alert's own target", async () => {
      const work = delivery([alert()]);
      const planned = await planDelivery(work, {
        rules: rules([warpDiag, { ...probes, match: { severity: ["critical"] }, targets: [{ hostname: "SAM-XPS13" }] }]),
        directory: fakeDirectory([JANE, SAM]),
      });
      expect(planned.map((p) => [p.rule.name, p.device.device_id])).toEqual([
        ["warp-diag-on-critical", "d-jane"],
        ["probe-warp-diag", "d-sam"],
      ]);
    });
  });
});
