import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, JANE, mockDexApi, SAM } from "../../test/helpers/dex-api-mock";
import { advanceClock, handedSettings, holdLedgerClock, ledger, runLedgerAlarm, settleLedger, unsettledCommands } from "../../test/helpers/ledger";
import { isolateEachTest, postZapier, runConsumer } from "../../test/helpers/relay";
import { CommandRows } from "./command-rows";
import type { LedgerSettings } from "../config/ledger-settings";
import type { LedgerCommand } from "./contract";
import { QUICK_RETRY_SECONDS, SLOW_RETRY_SECONDS } from "./retry-schedule";

/** What the consumer hands the ledger with every submit. */
const limits = () => handedSettings({ MAX_COMMANDS_PER_MINUTE: "30" });

/** A command for the ledger as the consumer would hand it over. */
function command(overrides: Partial<LedgerCommand> = {}, device = JANE): LedgerCommand {
  return {
    key: "key-1",
    cooldown_key: "cooldown-1",
    cooldown_minutes: 0,
    delivery_id: "00000000-0000-4000-8000-000000000001",
    source: "zapier",
    alert: 0,
    episode: "zapier:TICKET-1",
    rule: "warp-diag-on-critical",
    severity_rank: 0,
    command: { type: "warp-diag", device_id: device.deviceId, user_email: device.personEmail!, registration_id: device.registrationId! },
    device_name: device.deviceName!,
    report: { title: "Video calls keep freezing" },
    ...overrides,
  };
}

async function alarmAt(): Promise<number | null> {
  return runInDurableObject(ledger(), (_, state) => state.storage.getAlarm());
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("command ledger: claims", () => {
  it("two submits of the same key at the same moment create one command", async () => {
    const api = mockDexApi();
    const [a, b] = await Promise.all([
      ledger().submit([command()], limits()),
      ledger().submit([command({ delivery_id: "00000000-0000-4000-8000-000000000002" })], limits()),
    ]);
    expect(api.commands).toHaveLength(1);
    const outcomes = [a[0]!.outcome, b[0]!.outcome].sort();
    expect(outcomes).toEqual(["created", "duplicate"]);
  });

  it("two consumer batches for the same alert at the same time create one command", async () => {
    const api = mockDexApi();
    const first = await postZapier({ id: "SAME-ALERT", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    const second = await postZapier({ id: "SAME-ALERT", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    await Promise.all([runConsumer(first.queued), runConsumer(second.queued)]);
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
  });

  it("answers a queue redelivery of the same delivery with what it did, not with a duplicate", async () => {
    mockDexApi();
    const [first] = await ledger().submit([command()], limits());
    const [again] = await ledger().submit([command()], limits());
    expect(again).toEqual({ ...first, outcome: "created" });
  });

  it("a key that ended in a refusal is not sent again by a later delivery", async () => {
    const api = mockDexApi();
    api.failNext("create", apiError(400, "device is offline", "/commands/0/device_id"));
    const [first] = await ledger().submit([command()], limits());
    expect(first).toMatchObject({ outcome: "failed", reason: expect.stringContaining("device is offline") });
    const [later] = await ledger().submit([command({ delivery_id: "00000000-0000-4000-8000-000000000009" })], limits());
    expect(later).toMatchObject({ outcome: "duplicate", reason: expect.stringContaining("device is offline") });
    expect(api.callsTo("create")).toHaveLength(1);
  });

  it("a cooldown starts at the claim, so a second key for the same device waits even while the first is in flight", async () => {
    const api = mockDexApi();
    api.failNext("create", apiError(502, "bad gateway"));
    const [first] = await ledger().submit([command({ cooldown_minutes: 30 })], limits());
    expect(first?.outcome).toBe("retrying");
    const [second] = await ledger().submit([command({ key: "key-2", episode: "zapier:TICKET-2", cooldown_minutes: 30 })], limits());
    expect(second).toMatchObject({ outcome: "cooldown", reason: expect.stringContaining("already sending") });
  });

  it("a refused command lifts its cooldown: nothing ran on the device", async () => {
    const api = mockDexApi();
    api.failNext("create", apiError(400, "device is offline", "/commands/0/device_id"));
    await ledger().submit([command({ cooldown_minutes: 30 })], limits());
    const [next] = await ledger().submit([command({ key: "key-2", episode: "zapier:TICKET-2", cooldown_minutes: 30 })], limits());
    expect(next?.outcome).toBe("created");
    expect(api.commands).toHaveLength(1);
  });

  it("a dry run's preview claims nothing and sends nothing", async () => {
    const api = mockDexApi();
    const preview = await ledger().preview([command(), command({ alert: 1 }), command({ key: "key-2", alert: 2 })]);
    expect(preview.map((r) => r.outcome)).toEqual(["would-create", "duplicate", "would-create"]);
    expect(api.calls).toHaveLength(0);
    expect(await unsettledCommands()).toBe(0);
  });
});

describe("command ledger: a queue consumer of release 0.1.0, during a deploy", () => {
  it("submits with its cap alone: the ledger keeps the cap and sends with its own settings", async () => {
    const api = mockDexApi();
    // 0.1.0's consumer hands `{ maxCommandsPerMinute }`, not the settings this release hands.
    const releaseOneLimits = { maxCommandsPerMinute: 1 } as unknown as LedgerSettings;
    const answers = await ledger().submit([command(), command({ key: "key-2", cooldown_key: "cooldown-2", alert: 1 }, SAM)], releaseOneLimits);
    expect(answers.map((answer) => answer.outcome)).toEqual(["created", "waiting"]);
    expect(api.commands).toHaveLength(1);
    const cap = await runInDurableObject(ledger(), (_, state) =>
      state.storage.sql.exec<{ value: number }>("SELECT value FROM limits WHERE name = 'max_commands_per_minute'").one(),
    );
    expect(cap.value).toBe(1);
  });
});

describe("command ledger: reconciling", () => {
  it("never credits an alert with a command another alert created on the same device", async () => {
    const api = mockDexApi();
    await ledger().submit([command()], limits());
    // A second alert's create fails with a 502; the API lists the first alert's warp-diag on the same laptop.
    api.failNext("create", apiError(502, "bad gateway"));
    const [second] = await ledger().submit(
      [command({ key: "key-2", episode: "zapier:TICKET-2", delivery_id: "00000000-0000-4000-8000-000000000002" })],
      limits(),
    );
    expect(second?.outcome).toBe("retrying");
    expect(second?.command_id).toBeUndefined();

    await runLedgerAlarm();
    expect(api.commands).toHaveLength(2);
    const [after] = await ledger().submit(
      [command({ key: "key-2", episode: "zapier:TICKET-2", delivery_id: "00000000-0000-4000-8000-000000000002" })],
      limits(),
    );
    expect(after).toMatchObject({ outcome: "created", command_id: api.commands[1]!.id });
  });

  it("does not credit a key with a command created long before its create was sent", async () => {
    const api = mockDexApi();
    api.createdElsewhere({
      id: "older",
      device_id: JANE.deviceId,
      registration_id: JANE.registrationId!,
      user_email: JANE.personEmail!,
      type: "warp-diag",
      status: "SUCCESS",
      created_date: new Date(Date.now() - 60_000).toISOString(),
    });
    api.failNext("create", "network");
    await ledger().submit([command()], limits());
    await runLedgerAlarm();
    expect(api.commands.map((c) => c.id)).not.toEqual(["older"]);
    expect(api.commands).toHaveLength(2);
  });

  /**
   * What a restart in the middle of a create leaves behind: the claim marked `sending`, its
   * watchdog alarm set, and no instance that remembers sending it (a new instance's
   * in-flight set is empty). Written with the ledger's own row store, as `#send` writes it.
   */
  async function leftBySendingInstance(landed: boolean) {
    const api = mockDexApi();
    const sentAt = Date.now();
    await runInDurableObject(ledger(), async (_, state) => {
      const rows = new CommandRows(state.storage.sql);
      rows.insert(command(), sentAt, 86_400_000);
      rows.update("key-1", { state: "sending", admitted_at: sentAt, attempts: 1, first_sent_at: sentAt, last_sent_at: sentAt });
      await state.storage.setAlarm(sentAt + 30_000);
    });
    if (landed) {
      api.createdElsewhere({
        id: "landed-before-restart",
        device_id: JANE.deviceId,
        registration_id: JANE.registrationId!,
        user_email: JANE.personEmail!,
        type: "warp-diag",
        status: "PENDING_EXEC",
        created_date: new Date(sentAt + 300).toISOString(),
      });
    }
    return api;
  }

  it("a restart in the middle of a create whose command landed: found on the alarm, not created twice", async () => {
    const api = await leftBySendingInstance(true);
    expect(await runLedgerAlarm()).toBe(true);
    expect(api.callsTo("list")).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(0);
    const [after] = await ledger().submit([command()], limits());
    expect(after).toMatchObject({ outcome: "created", command_id: "landed-before-restart" });
  });

  it("a restart in the middle of a create that did not land: checked, then created once", async () => {
    const api = await leftBySendingInstance(false);
    await runLedgerAlarm();
    expect(api.callsTo("list")).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
    const [after] = await ledger().submit([command()], limits());
    expect(after).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id });
  });
});

describe("command ledger: retry schedule", () => {
  it("retries after 2, 4, 8 and 16 s, then once a minute", async () => {
    const api = mockDexApi();
    const failures = Array.from({ length: 6 }, () => apiError(503, "unavailable"));
    api.failNext("create", ...failures);
    await ledger().submit([command()], limits());
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      const at = await alarmAt();
      delays.push(Math.round((at! - before) / 1000));
      await runLedgerAlarm();
    }
    expect(delays).toEqual([...QUICK_RETRY_SECONDS, SLOW_RETRY_SECONDS]);
    await settleLedger();
    expect(api.commands).toHaveLength(1);
    // Each retry was checked first: one list after each failed create, one before each resend.
    expect(api.callsTo("create")).toHaveLength(7);
  });

  it("gives up, and says so, once the capture is no longer worth it", async () => {
    const api = mockDexApi();
    api.failNext("create", ...Array.from({ length: 60 }, () => apiError(503, "unavailable")));
    await ledger().submit([command()], limits());
    await settleLedger(80);
    const [result] = await ledger().submit([command()], limits());
    expect(result).toMatchObject({ outcome: "failed", reason: expect.stringMatching(/gave up after \d+ attempts over 30 minutes/) });
    expect(api.commands).toHaveLength(0);
  });
});

describe("command ledger: one API budget, and a 429 on any call", () => {
  it("a 429 on a device search stops the ledger's own creates until Retry-After", async () => {
    const api = mockDexApi();
    api.failNext("devices", apiError(429, "rate limited", undefined, { "retry-after": "45" }));
    const { queued } = await postZapier({ id: "LOOKUP-429", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    const result = await runConsumer(queued);
    expect(result.continued[0]?.delaySeconds).toBeGreaterThanOrEqual(45);

    const [held] = await ledger().submit([command()], limits());
    expect(held).toMatchObject({ outcome: "retrying", reason: expect.stringContaining("asked to wait") });
    expect(api.callsTo("create")).toHaveLength(0);
    await settleLedger();
    expect(api.callsTo("create")).toHaveLength(1);
  });

  it("a 429 on a status poll locks every call out too", async () => {
    const api = mockDexApi();
    await ledger().submit([command()], limits());
    api.failNext("list", apiError(429, "rate limited", undefined, { "retry-after": "200" }));
    await runLedgerAlarm();
    expect(await ledger().takeApiCalls(1)).toBeGreaterThan(190);
  });

  it("spends at most the bucket's burst at once, and refills it over time", async () => {
    mockDexApi();
    const stub = ledger();
    advanceClock(0);
    let granted = 0;
    while ((await stub.takeApiCalls(1)) === 0 && granted < 1_000) granted++;
    expect(granted).toBe(100);
    advanceClock(10_000);
    expect(await stub.takeApiCalls(30)).toBe(0);
    expect(await stub.takeApiCalls(1)).toBeGreaterThan(0);
  });
});

describe("command ledger: statuses", () => {
  it("polls unfinished commands every 20 s at most, and stops once they are finished", async () => {
    const api = mockDexApi();
    await ledger().submit([command()], limits());
    const lists = () => api.callsTo("list").length;
    await runLedgerAlarm();
    expect(lists()).toBe(1);
    api.settle(api.commands[0]!.id, "SUCCESS", "warp-diag.zip");
    const before = Date.now();
    await runLedgerAlarm();
    expect(Date.now() - before).toBeGreaterThanOrEqual(20_000);
    expect(lists()).toBe(2);
    const [entry] = (await ledger().describe("00000000-0000-4000-8000-000000000001", [])).commands;
    expect(entry).toMatchObject({ status: "SUCCESS", filename: "warp-diag.zip" });
    // Nothing left to follow: no alarm, no more calls.
    expect(await alarmAt()).toBeNull();
  });
});

vi.setConfig({ testTimeout: 20_000 });
