import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, JANE, mockDexApi, SAM } from "../../test/helpers/dex-api-mock";
import { advanceClock, handedSettings, holdLedgerClock, ledger, runLedgerAlarm, settleLedger, unsettledCommands } from "../../test/helpers/ledger";
import { isolateEachTest } from "../../test/helpers/relay";
import type { LedgerCommand } from "./contract";
import { QUOTA_READ_INTERVAL_MS } from "./quota";

/** What the consumer hands the ledger with every submit. */
const limits = () => handedSettings({ MAX_COMMANDS_PER_MINUTE: "30" });
const DELIVERY = "00000000-0000-4000-8000-000000000001";

/** A command for the ledger as the consumer would hand it over; `n` makes it another alert's. */
function command(n = 1, device = JANE): LedgerCommand {
  return {
    key: `key-${n}`,
    cooldown_key: `cooldown-${n}`,
    cooldown_minutes: 0,
    delivery_id: DELIVERY,
    source: "zapier",
    alert: n - 1,
    episode: `zapier:TICKET-${n}`,
    rule: "warp-diag-on-critical",
    severity_rank: 0,
    command: { type: "warp-diag", device_id: device.deviceId, user_email: device.personEmail!, registration_id: device.registrationId! },
    device_name: device.deviceName!,
    report: { title: "Video calls keep freezing" },
  };
}

async function alarmAt(): Promise<number | null> {
  return runInDurableObject(ledger(), (_, state) => state.storage.getAlarm());
}

const iso = (ms: number) => new Date(ms).toISOString();
const heldReason = (resetAt: number) => `the account's DEX command quota is spent until ${iso(resetAt)}; sent then if still within 10 minutes of the alert`;

isolateEachTest();
beforeEach(holdLedgerClock);

describe("command ledger: reading the account's command quota", () => {
  it("reads it when it first sends, then at most every five minutes, however many commands go out", async () => {
    const api = mockDexApi();
    await ledger().submit([command(1)], limits());
    expect(api.callsTo("quota")).toHaveLength(1);
    await ledger().submit([command(2, SAM)], limits());
    advanceClock(QUOTA_READ_INTERVAL_MS - 1_000);
    await ledger().submit([command(3)], limits());
    expect(api.callsTo("quota")).toHaveLength(1);

    advanceClock(1_000);
    await ledger().submit([command(4, SAM)], limits());
    expect(api.callsTo("quota")).toHaveLength(2);
    // The stand-in says what is left, as the SDKs read `quota`; the ledger shows only what holds either way.
    expect(await ledger().quotaStatus()).toEqual({
      quota: 996,
      used: 4,
      left_at_least: 992,
      reset_time: expect.stringMatching(/T00:00:00\.000Z$/),
      read_at: iso(Date.now()),
      spent_until: null,
    });
  });

  it("a read that fails holds nothing back, and is tried again a minute later, not on every pass", async () => {
    const api = mockDexApi();
    api.failNext("quota", apiError(503, "unavailable"));
    const [first] = await ledger().submit([command(1)], limits());
    expect(first?.outcome).toBe("created");
    await ledger().submit([command(2, SAM)], limits());
    expect(api.callsTo("quota")).toHaveLength(1);
    expect((await ledger().quotaStatus()).read_at).toBeNull();

    advanceClock(60_000);
    await ledger().submit([command(3)], limits());
    expect(api.callsTo("quota")).toHaveLength(2);
    expect((await ledger().quotaStatus()).used).toBe(3);
  });
});

describe("command ledger: a spent quota", () => {
  it("a create refused for the quota is not failed: it waits for the reset, then goes out once", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 4 * 60_000;
    api.setQuota({ limit: 2, used: 2, reset_time: iso(resetAt) });

    const [held] = await ledger().submit([command(1)], limits());

    expect(held).toEqual({ key: "key-1", outcome: "waiting", reason: heldReason(resetAt) });
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.commands).toHaveLength(0);
    // The refusal made the ledger read the quota at once, to learn when it resets.
    expect(api.callsTo("quota")).toHaveLength(1);
    expect(await ledger().quotaStatus()).toMatchObject({ quota: 0, used: 2, spent_until: iso(resetAt) });
    expect(await alarmAt()).toBe(resetAt);

    await runLedgerAlarm();
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(2);
    const [entry] = (await ledger().describe(DELIVERY, [])).commands;
    // The refused create created nothing: it is not counted as an attempt.
    expect(entry).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id, attempts: 1 });
    expect((await ledger().quotaStatus()).spent_until).toBeNull();
  });

  it("while it is spent, later commands wait without a create call, and go out together at the reset", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 3 * 60_000;
    api.setQuota({ limit: 2, used: 2, reset_time: iso(resetAt) });
    await ledger().submit([command(1)], limits());

    advanceClock(30_000);
    const [later] = await ledger().submit([command(2, SAM)], limits());
    expect(later).toMatchObject({ outcome: "waiting", reason: heldReason(resetAt) });
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await ledger().preview([command(3)]))[0]?.reason).toBe(
      `every check passed; the account's DEX command quota is spent until ${iso(resetAt)}, so it would wait for the reset`,
    );

    await settleLedger();
    expect(api.commands.map((c) => c.device_id).sort()).toEqual([JANE.deviceId, SAM.deviceId].sort());
    expect(api.callsTo("create")).toHaveLength(2);
    expect(api.callsTo("create")[1]?.body).toMatchObject({ commands: [expect.anything(), expect.anything()] });
  });

  it("a batch that does not fit in what is left: what fits is created, the rest waits for the reset", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 5 * 60_000;
    api.setQuota({ limit: 3, used: 2, reset_time: iso(resetAt) });
    const results = await ledger().submit([command(1), command(2, SAM)], limits());

    expect(results.map((r) => r.outcome).sort()).toEqual(["created", "waiting"]);
    expect(api.commands).toHaveLength(1);
    expect(results.find((r) => r.outcome === "waiting")?.reason).toBe(heldReason(resetAt));
    // Both in one create, refused whole; then one alone (it fits), then the other alone (refused).
    expect(api.callsTo("create").map((call) => (call.body as { commands: unknown[] }).commands.length)).toEqual([2, 1, 1]);
  });

  it("a read that says nothing is left holds the next command without trying a create", async () => {
    const api = mockDexApi();
    await ledger().submit([command(1)], limits());
    const resetAt = Date.now() + 3600_000;
    api.setQuota({ used: 1000, reset_time: iso(resetAt) });
    advanceClock(QUOTA_READ_INTERVAL_MS);
    // The status poll's pass reads the quota again: 0 left.
    await runLedgerAlarm();
    expect(await ledger().quotaStatus()).toMatchObject({ quota: 0, left_at_least: 0, spent_until: iso(resetAt) });

    const [held] = await ledger().submit([command(2, SAM)], limits());
    expect(held).toMatchObject({ outcome: "waiting", reason: heldReason(resetAt) });
    expect(api.callsTo("create")).toHaveLength(1);
  });

  it("read the other way (`quota` as the total), a spent quota is learnt from the refusal and held the same", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 2 * 60_000;
    api.setQuota({ limit: 5, used: 5, field: "total", reset_time: iso(resetAt) });

    const [held] = await ledger().submit([command(1)], limits());

    expect(held).toMatchObject({ outcome: "waiting", reason: heldReason(resetAt) });
    // Quota 5, used 5: spent if 5 is the total, 5 left if it is what is left. Nothing is held on that alone.
    expect(await ledger().quotaStatus()).toMatchObject({ quota: 5, used: 5, left_at_least: 0, spent_until: iso(resetAt) });
    await settleLedger();
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(2);
  });

  it("a command whose useful window ends before the reset is recorded as expired, saying why, and never sent", async () => {
    const api = mockDexApi();
    const logged = vi.spyOn(console, "log");
    const queuedAt = Date.now();
    const resetAt = queuedAt + 6 * 3600_000;
    api.setQuota({ limit: 1, used: 1, reset_time: iso(resetAt) });
    await ledger().submit([command(1)], limits());
    // It wakes when its window ends, not at the reset six hours later.
    expect(await alarmAt()).toBe(queuedAt + 10 * 60_000);

    await settleLedger();
    const [ended] = await ledger().submit([command(1)], limits());
    const reason = `the account's DEX command quota is spent until ${iso(resetAt)}; it could not be sent within 10 minutes of the alert`;
    expect(ended).toEqual({ key: "key-1", outcome: "expired", reason });
    expect(api.callsTo("create")).toHaveLength(1);
    expect(await unsettledCommands()).toBe(0);
    const events = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ event: "ledger-quota-expired", reason }));
  });

  it("what waited for the reset goes out at the per-minute cap's pace, not all at once", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 2 * 60_000;
    api.setQuota({ limit: 2, used: 2, reset_time: iso(resetAt) });
    await ledger().submit([command(1), command(2, SAM)], handedSettings({ MAX_COMMANDS_PER_MINUTE: "1" }));
    await settleLedger();
    const created = (await ledger().describe(DELIVERY, [])).commands.map((entry) => Date.parse(entry.created_at!)).sort();
    expect(created).toHaveLength(2);
    expect(created[0]).toBeGreaterThanOrEqual(resetAt);
    expect(created[1]! - created[0]!).toBeGreaterThanOrEqual(60_000);
  });

  it("a create that may have landed is still looked up while the quota is spent: found, never created twice", async () => {
    const api = mockDexApi();
    api.setQuota({ limit: 1, used: 0, reset_time: iso(Date.now() + 3600_000) });
    // The first create lands but its answer is lost, and the check that follows fails too.
    api.landThenFail("network");
    api.failNext("list", apiError(503, "unavailable"));
    const [first] = await ledger().submit([command(1)], limits());
    expect(first?.outcome).toBe("retrying");
    // The command that landed used the quota up, as the read after that pass says: the next one waits.
    const [second] = await ledger().submit([command(2, SAM)], limits());
    expect(second).toMatchObject({ outcome: "waiting", reason: expect.stringContaining("quota is spent until") });

    await runLedgerAlarm();
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.callsTo("list")).toHaveLength(2);
    const [found] = await ledger().submit([command(1)], limits());
    expect(found).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id });
  });
});

vi.setConfig({ testTimeout: 20_000 });
