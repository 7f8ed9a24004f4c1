import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { mockDexApi } from "../helpers/dex-api-mock";
import { currentDelivery, holdLedgerClock, settleLedger } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, queueAlertsOnOwnDevices, RELAY, runConsumer } from "../helpers/relay";

async function healthz() {
  const res = await exports.default.fetch(`${RELAY}/healthz`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { dex_command_quota: Record<string, unknown> | null }).dex_command_quota;
}

const iso = (ms: number) => new Date(ms).toISOString();

isolateEachTest();
beforeEach(holdLedgerClock);

describe("the account's DEX command quota", () => {
  it("GET /healthz shows it as the ledger last read it, and never reads it itself", async () => {
    const api = mockDexApi();
    expect(await healthz()).toEqual({ quota: null, used: null, left_at_least: null, reset_time: null, read_at: null, spent_until: null });

    await runConsumer(await queueAlertsOnOwnDevices(1, "healthz"));
    const readAt = iso(Date.now());
    for (let i = 0; i < 3; i++) {
      expect(await healthz()).toEqual({
        quota: 999,
        used: 1,
        left_at_least: 998,
        reset_time: expect.stringMatching(/T00:00:00\.000Z$/),
        read_at: readAt,
        spent_until: null,
      });
    }
    expect(api.callsTo("quota")).toHaveLength(1);
  });

  it("an alert storm on a spent quota: every command waits for the reset, each delivery says why, each is created once after", async () => {
    const api = mockDexApi();
    const resetAt = Date.now() + 3 * 60_000;
    api.setQuota({ limit: 5, used: 5, reset_time: iso(resetAt) });
    const messages = await queueAlertsOnOwnDevices(3, "storm");

    const result = await runConsumer(messages);
    expect(result.explicitAcks).toHaveLength(3);
    // The batch of three was refused, then two of them, then one: nothing fits, and nothing more is tried.
    expect(api.callsTo("create").map((call) => (call.body as { commands: unknown[] }).commands.length)).toEqual([3, 2, 1]);
    for (const message of messages) {
      expect((await deliveryRecord(message.delivery_id))?.decisions[0]).toMatchObject({
        outcome: "waiting",
        reason: `the account's DEX command quota is spent until ${iso(resetAt)}; sent then if still within 10 minutes of the alert`,
      });
    }
    expect(await healthz()).toMatchObject({ quota: 0, used: 5, spent_until: iso(resetAt) });

    await settleLedger();
    expect(api.commands).toHaveLength(3);
    expect(api.callsTo("create")).toHaveLength(4);
    for (const message of messages) {
      expect((await currentDelivery(message.delivery_id)).decisions[0]).toMatchObject({ outcome: "created", command_id: expect.any(String) });
    }
    expect(await healthz()).toMatchObject({ used: 3, spent_until: null });
  });

  it("the console says when it was read, and that commands wait while it is spent", async () => {
    const api = mockDexApi();
    const page = async () => (await exports.default.fetch(`${RELAY}/console`, { headers: { authorization: "Bearer admin-test-token" } })).text();
    expect(await page()).toContain('DEX command quota: <span class="muted">not read yet');

    const resetAt = Date.now() + 3600_000;
    api.setQuota({ limit: 1, used: 1, reset_time: iso(resetAt) });
    await runConsumer(await queueAlertsOnOwnDevices(1, "console"));
    const html = await page();
    expect(html).toContain(`1 used, at least 0 left (the API says quota 0) · resets ${iso(resetAt)}`);
    expect(html).toContain(`spent until ${iso(resetAt)}: commands wait for the reset`);
  });
});
