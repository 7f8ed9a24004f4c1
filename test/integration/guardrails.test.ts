import { describe, expect, it, vi } from "vitest";
import { enrol, JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";

/** A device the DEX API lists as connected, for the alert about it. */
const enrolled = (deviceId: string, email: string) => (enrol(deviceId, email), deviceId);
import { deliveryRecord, isolateEachTest, postZapier, runConsumer } from "../helpers/relay";

async function queueAlert(fields: Record<string, unknown>) {
  const { status, queued } = await postZapier({ severity: "warning", title: "Throughput below 5 Mbps", ...fields });
  expect(status).toBe(202);
  return queued[0]!;
}

const outcomes = async (id: string) => ((await deliveryRecord(id))?.decisions ?? []).map((d: any) => d.outcome);

isolateEachTest();

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
    expect(decisions.map((d: any) => `${d.device_id}: ${d.outcome}`).sort()).toEqual([
      "jane-1: created",
      "jane-2: created",
      "jane-3: capped",
    ]);
    expect(decisions.find((d: any) => d.outcome === "capped").reason).toMatch(/at most 2 devices/);
  });

  it("MAX_COMMANDS_PER_MINUTE: commands over the account-wide budget are capped and recorded, across batches", async () => {
    const api = mockDexApi();
    const messages = [];
    for (let i = 0; i < 5; i++) {
      messages.push(await queueAlert({ id: `cap-${i}`, severity: "critical", title: "Disk latency", device_id: enrolled(`dev-${i}`, `u${i}@example.com`), user_email: `u${i}@example.com` }));
    }
    await runConsumer(messages.slice(0, 2), 1, { MAX_COMMANDS_PER_MINUTE: "3" });
    await runConsumer(messages.slice(2), 1, { MAX_COMMANDS_PER_MINUTE: "3" });

    expect(api.commands).toHaveLength(3);
    const all = await Promise.all(messages.map((m) => outcomes(m.delivery_id)));
    expect(all.flat().sort()).toEqual(["capped", "capped", "created", "created", "created"]);
    const capped = (await deliveryRecord(messages[4]!.delivery_id))?.decisions[0];
    expect(capped).toMatchObject({ outcome: "capped", reason: expect.stringContaining("MAX_COMMANDS_PER_MINUTE (3)") });
  });

  it("an alert storm about one user costs one device lookup, across batches", async () => {
    const api = mockDexApi();
    for (let batch = 0; batch < 3; batch++) {
      const messages = [];
      for (let i = 0; i < 10; i++) messages.push(await queueAlert({ id: `storm-${batch}-${i}`, severity: "critical", user_email: JANE.personEmail }));
      await runConsumer(messages);
    }
    expect(api.callsTo("devices")).toHaveLength(1);
    // The rule's default cooldown lets one command through per device and type.
    expect(api.commands).toHaveLength(1);
  });
});

describe("guardrails and retries", () => {
  it("a retried delivery is not capped: its commands were admitted on the first attempt", async () => {
    const api = mockDexApi();
    const { queued } = await postZapier({ id: "retry-cap", severity: "critical", title: "Disk latency", device_id: enrolled("dev-r", "r@example.com"), user_email: "r@example.com" });
    api.failNext("create", () => Response.json({ success: false, errors: [{ code: 1, message: "internal" }] }, { status: 500 }));
    await runConsumer(queued, 1, { MAX_COMMANDS_PER_MINUTE: "1" });
    await runConsumer(queued, 2, { MAX_COMMANDS_PER_MINUTE: "1" });
    expect(api.commands).toHaveLength(1);
    expect(await outcomes(queued[0]!.delivery_id)).toEqual(["created"]);
  });
});
