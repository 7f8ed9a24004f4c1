import { beforeEach, describe, expect, it } from "vitest";
import { enrol, JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, runLedgerAlarm, settleLedger } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, post, postZapier, runConsumer } from "../helpers/relay";
import { alertGroup } from "../helpers/source-fixtures";

/** A device the DEX API lists as connected, for the alert about it. */
const enrolled = (deviceId: string, email: string) => {
  enrol(deviceId, email);
  return deviceId;
};

async function queueAlert(fields: Record<string, unknown>) {
  const { status, queued } = await postZapier({ severity: "warning", title: "Throughput below 5 Mbps", ...fields });
  expect(status).toBe(202);
  return queued[0]!;
}

const outcomes = async (id: string) => ((await deliveryRecord(id))?.decisions ?? []).map((d: any) => d.outcome);

isolateEachTest();
beforeEach(holdLedgerClock);

describe("guardrails", () => {
  it("cooldown: a second alert within cooldown_minutes sends no second command of that type to the device", async () => {
    const api = mockDexApi();
    const first = await queueAlert({ id: "bw-1", check: "bandwidth", user_email: SAM.personEmail });
    const second = await queueAlert({ id: "bw-2", check: "bandwidth", user_email: SAM.personEmail });
    await runConsumer([first]);
    await runConsumer([second]);

    expect(api.commands.map((c) => c.type)).toEqual(["speed-test"]);
    expect(await outcomes(first.delivery_id)).toEqual(["created"]);
    const [decision] = (await deliveryRecord(second.delivery_id))?.decisions ?? [];
    expect(decision).toMatchObject({
      outcome: "cooldown",
      rule: "bandwidth-speed-test",
      command_id: api.commands[0]?.id,
      reason: expect.stringMatching(/cooldown until/),
    });
  });

  it("cooldown holds within one batch too, and not across devices", async () => {
    const api = mockDexApi();
    const a = await queueAlert({ id: "bw-3", check: "bandwidth", user_email: SAM.personEmail });
    const b = await queueAlert({ id: "bw-4", check: "bandwidth", user_email: SAM.personEmail });
    const c = await queueAlert({ id: "bw-5", check: "bandwidth", user_email: JANE.personEmail });
    await runConsumer([a, b, c]);
    expect(api.commands.map((cmd) => cmd.device_id).sort()).toEqual([JANE.deviceId, SAM.deviceId].sort());
    expect(await outcomes(b.delivery_id)).toEqual(["cooldown"]);
  });

  it("max_devices: devices beyond the rule's cap are recorded as capped", async () => {
    const laptops = [1, 2, 3].map((i) => ({ ...JANE, deviceId: `jane-${i}`, deviceName: `JANE-${i}`, registrationId: `r-${i}` }));
    const api = mockDexApi(laptops);
    const rules = [{ name: "two-at-most", max_devices: 2, command: { type: "warp-diag" } }];
    const message = await queueAlert({ id: "many-devices", user_email: JANE.personEmail });
    await runConsumer([message], 1, { RULES: rules });

    expect(api.commands).toHaveLength(2);
    const decisions = (await deliveryRecord(message.delivery_id))?.decisions ?? [];
    expect(decisions.map((d: any) => `${d.device_id}: ${d.outcome}`).sort()).toEqual(["jane-1: created", "jane-2: created", "jane-3: capped"]);
    expect(decisions.find((d: any) => d.outcome === "capped").reason).toMatch(/at most 2 devices/);
  });

  it("MAX_COMMANDS_PER_MINUTE: commands over the cap wait for the next minute instead of being dropped", async () => {
    const api = mockDexApi();
    const messages = [];
    for (let i = 0; i < 5; i++) {
      messages.push(
        await queueAlert({
          id: `cap-${i}`,
          severity: "critical",
          title: "Disk latency",
          device_id: enrolled(`dev-${i}`, `u${i}@example.com`),
          user_email: `u${i}@example.com`,
        }),
      );
    }
    await runConsumer(messages.slice(0, 2), 1, { MAX_COMMANDS_PER_MINUTE: "3" });
    await runConsumer(messages.slice(2), 1, { MAX_COMMANDS_PER_MINUTE: "3" });

    expect(api.commands).toHaveLength(3);
    const all = await Promise.all(messages.map((m) => outcomes(m.delivery_id)));
    expect(all.flat().sort()).toEqual(["created", "created", "created", "waiting", "waiting"]);
    const waiting = (await deliveryRecord(messages[4]!.delivery_id))?.decisions[0];
    expect(waiting).toMatchObject({ outcome: "waiting", reason: expect.stringContaining("MAX_COMMANDS_PER_MINUTE (3)") });

    // A minute later the cap has room again: the ledger sends them on its own.
    await settleLedger();
    expect(api.commands).toHaveLength(5);
    expect((await currentDelivery(messages[4]!.delivery_id)).decisions[0]).toMatchObject({ outcome: "created", command_id: expect.any(String) });
  });

  it("MAX_COMMANDS_PER_MINUTE: a command the cap never has room for within 10 minutes is recorded as expired", async () => {
    const api = mockDexApi();
    const messages = [];
    for (let i = 0; i < 12; i++) {
      messages.push(
        await queueAlert({
          id: `flood-${i}`,
          severity: "critical",
          title: "Disk latency",
          device_id: enrolled(`dev-${i}`, `u${i}@example.com`),
          user_email: `u${i}@example.com`,
        }),
      );
    }
    await runConsumer(messages, 1, { MAX_COMMANDS_PER_MINUTE: "1" });
    expect(api.commands).toHaveLength(1);
    await settleLedger();
    // One a minute for ten minutes, and the one admitted as the tenth minute ends.
    expect(api.commands).toHaveLength(11);
    const last = await currentDelivery(messages[11]!.delivery_id);
    expect(last.decisions[0]).toMatchObject({ outcome: "expired", reason: expect.stringContaining("within 10 minutes") });
  });

  it("MAX_COMMANDS_PER_MINUTE: one sender cannot use up the minute; the most severe alert goes first", async () => {
    const api = mockDexApi();
    const zaps = [];
    for (let i = 0; i < 6; i++) {
      zaps.push(
        await queueAlert({
          id: `noisy-${i}`,
          severity: "critical",
          title: "Disk latency",
          device_id: enrolled(`dev-${i}`, `u${i}@example.com`),
          user_email: `u${i}@example.com`,
        }),
      );
    }
    await runConsumer(zaps, 1, { MAX_COMMANDS_PER_MINUTE: "4" });
    // A quarter of the minute is kept for the other sources.
    expect(api.commands).toHaveLength(3);

    const page = alertGroup([
      {
        status: "firing",
        labels: { alertname: "WarpTunnelPacketLoss", severity: "critical", user_email: SAM.personEmail! },
        annotations: { summary: "WARP tunnel packet loss on SAM-XPS13" },
        startsAt: "2026-11-25T09:38:07.104Z",
        endsAt: "0001-01-01T00:00:00Z",
        fingerprint: "5a1b2c3d4e5f6071",
      },
    ]);
    const { status, queued } = await post("/v1/alerts/alertmanager", {
      headers: { authorization: "Bearer alertmanager-test-token", "content-type": "application/json" },
      body: JSON.stringify(page),
    });
    expect(status).toBe(202);
    await runConsumer(queued, 1, { MAX_COMMANDS_PER_MINUTE: "4" });
    expect(api.commands.map((c) => c.device_id)).toContain(SAM.deviceId);
    expect(api.commands).toHaveLength(4);
  });

  it("an alert storm about one user costs one device lookup, across batches", async () => {
    const api = mockDexApi();
    for (let batch = 0; batch < 3; batch++) {
      const messages = [];
      for (let i = 0; i < 10; i++) messages.push(await queueAlert({ id: `storm-${batch}-${i}`, severity: "critical", user_email: JANE.personEmail }));
      await runConsumer(messages, 1, { MAX_COMMANDS_PER_MINUTE: "240" });
    }
    expect(api.callsTo("devices")).toHaveLength(1);
    // The rule's default cooldown lets one command through per device and type.
    expect(api.commands).toHaveLength(1);
  });
});

describe("guardrails and retries", () => {
  it("a command the cap admitted is never capped again when the ledger retries it", async () => {
    const api = mockDexApi();
    const { queued: first } = await postZapier({
      id: "retry-cap",
      severity: "critical",
      title: "Disk latency",
      device_id: enrolled("dev-r", "r@example.com"),
      user_email: "r@example.com",
    });
    api.failNext("create", () => Response.json({ success: false, errors: [{ code: 1, message: "internal" }] }, { status: 500 }));
    await runConsumer(first, 1, { MAX_COMMANDS_PER_MINUTE: "1" });
    // The minute's one slot is taken by the command being retried: the next alert waits.
    const { queued: second } = await postZapier({
      id: "after-retry",
      severity: "critical",
      title: "Disk latency",
      device_id: enrolled("dev-s", "s@example.com"),
      user_email: "s@example.com",
    });
    await runConsumer(second, 1, { MAX_COMMANDS_PER_MINUTE: "1" });
    expect(await outcomes(second[0]!.delivery_id)).toEqual(["waiting"]);

    await runLedgerAlarm();
    expect(api.commands.map((c) => c.device_id)).toEqual(["dev-r"]);
    expect((await currentDelivery(first[0]!.delivery_id)).decisions.map((d: any) => d.outcome)).toEqual(["created"]);
    advanceClock(60_000);
    await settleLedger();
    expect(api.commands.map((c) => c.device_id)).toEqual(["dev-r", "dev-s"]);
  });

  it("cooldowns are keyed on the resolved device, however the alert named it", async () => {
    const api = mockDexApi();
    const byEmail = await queueAlert({ id: "bw-email", check: "bandwidth", user_email: SAM.personEmail });
    const byId = await queueAlert({ id: "bw-id", check: "bandwidth", device_id: SAM.deviceId, user_email: SAM.personEmail });
    await runConsumer([byEmail]);
    await runConsumer([byId]);
    expect(api.commands.map((c) => c.type)).toEqual(["speed-test"]);
    expect(await outcomes(byId.delivery_id)).toEqual(["cooldown"]);
  });
});
