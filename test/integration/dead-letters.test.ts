import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { apiError, JANE, mockDexApi } from "../helpers/dex-api-mock";
import { listDeadLetters, replay, runDeadLetterConsumer } from "../helpers/dead-letters";
import { currentDelivery } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, postZapier, RELAY, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/** Not about approval: the shipped rules with every command sent at once (approval has ./approvals.test.ts). */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

const ADMIN = { authorization: "Bearer admin-test-token" };

/**
 * Two rules with a lookup each, searched one by one: a pcap on the alert's user and a
 * warp-diag on a fixed probe, so that one lookup can fail while the other's command is made.
 */
const TWO_LOOKUPS = {
  DEVICE_LOOKUP: "search",
  RULES: [
    { name: "vpn-packet-loss-pcap", command: { type: "pcap", args: { "time-limit-min": 2 } }, match: { severity: ["critical"] } },
    { name: "probe-warp-diag", command: { type: "warp-diag" }, targets: [{ hostname: "SAM-XPS13" }], match: { severity: ["critical"] } },
  ],
};

/** A delivery about Jane whose device lookup failed on every attempt: dead-lettered, with the probe's warp-diag created. */
async function deadLetteredDelivery(): Promise<DeliveryMessage> {
  mockDexApi();
  const { queued } = await postZapier({ id: "DL-1", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
  const api = mockDexApi();
  api.failNext("devices", apiError(503, "unavailable"));
  await runConsumer(queued, 6, TWO_LOOKUPS);
  expect((await deliveryRecord(queued[0]!.delivery_id))?.state).toBe("dead-lettered");
  return queued[0]!;
}

isolateEachTest();

describe("dead-letter consumer", () => {
  it("keeps what ran out of retries with why it died, acknowledges it, and lists it", async () => {
    const message = await deadLetteredDelivery();
    const result = await runDeadLetterConsumer([message]);
    expect(result.explicitAcks).toEqual(["dlq-0"]);
    const { dead_letters } = await listDeadLetters();
    expect(dead_letters).toEqual([
      expect.objectContaining({ delivery_id: message.delivery_id, source: "zapier", alerts: 1, reason: expect.stringContaining("device lookup failed") }),
    ]);
    const one = await exports.default.fetch(`${RELAY}/v1/dead-letters/${dead_letters[0]!.id}`, { headers: ADMIN });
    expect(await one.json()).toMatchObject({ message, attempts: 1, replays: [] });
  });

  it("marks the delivery dead-lettered when the queue gave up before the consumer's last attempt", async () => {
    mockDexApi();
    const { queued } = await postZapier({ id: "DL-2", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
    const api = mockDexApi();
    api.failNext("devices", apiError(503, "unavailable"), apiError(503, "unavailable"));
    await runConsumer(queued, 2);
    expect((await deliveryRecord(queued[0]!.delivery_id))?.state).toBe("retrying");
    await runDeadLetterConsumer(queued);
    expect((await deliveryRecord(queued[0]!.delivery_id))?.state).toBe("dead-lettered");
  });

  it("keeps a dead letter the queue brings twice once, and lists the newest first", async () => {
    mockDexApi();
    const a = { delivery_id: "a", source: "zapier", received_at: "2026-11-25T09:00:00Z", alerts: [] };
    await runDeadLetterConsumer([a], ["m-old"], new Date("2026-11-25T09:00:00Z"));
    await runDeadLetterConsumer([{ ...a, delivery_id: "b" }], ["m-new"], new Date("2026-11-25T11:00:00Z"));
    await runDeadLetterConsumer([a], ["m-old"], new Date("2026-11-25T09:00:00Z"));
    expect((await listDeadLetters()).dead_letters.map((d) => d.delivery_id)).toEqual(["b", "a"]);
  });

  it("keeps a message that is not a delivery, and refuses to replay it", async () => {
    mockDexApi();
    await runDeadLetterConsumer([{ hello: "world" }]);
    const [letter] = (await listDeadLetters()).dead_letters;
    expect(letter).toMatchObject({ alerts: 0, reason: expect.stringContaining("not a delivery") });
    expect((await replay(letter!.id)).status).toBe(409);
  });

  it("retries a dead letter it could not keep, instead of dropping it", async () => {
    mockDexApi();
    vi.spyOn(env.RELAY_KV, "put").mockRejectedValue(new Error("KV unavailable"));
    const result = await runDeadLetterConsumer([{ hello: "world" }]);
    expect(result.retryMessages).toEqual([{ msgId: "dlq-0" }]);
  });
});

describe("POST /v1/dead-letters/{id}/replay", () => {
  it("sends the delivery through again, which creates its commands, and marks the dead letter replayed", async () => {
    const message = await deadLetteredDelivery();
    await runDeadLetterConsumer([message]);
    const [letter] = (await listDeadLetters()).dead_letters;

    const replayed = await replay(letter!.id);
    expect(replayed).toMatchObject({ status: 202, json: { status: "queued", delivery_id: message.delivery_id } });
    expect(replayed.sent).toEqual([message]);
    expect((await listDeadLetters()).dead_letters[0]).toMatchObject({ replayed_at: expect.any(String) });

    // The last attempt's lookup failed for the pcap rule only: its warp-diag was created then.
    const before = (await deliveryRecord(message.delivery_id))!.decisions;
    expect(before.map((d: any) => d.outcome)).toEqual(["failed", "created"]);
    const api = mockDexApi();
    await runConsumer(replayed.sent, 1, TWO_LOOKUPS);
    // Only the pcap is created now; the ledger answers the warp-diag it already holds.
    expect(api.commands.map((c) => c.type)).toEqual(["pcap"]);
    const after = (await currentDelivery(message.delivery_id)).decisions;
    expect(after.map((d: any) => [d.outcome, d.command_id])).toEqual([
      ["created", api.commands[0]!.id],
      ["created", before[1].command_id],
    ]);
  });

  it("never creates a duplicate: a second replay, and a replay of what had already created its commands, create nothing", async () => {
    const message = await deadLetteredDelivery();
    await runDeadLetterConsumer([message]);
    const [letter] = (await listDeadLetters()).dead_letters;
    const api = mockDexApi();
    await runConsumer((await replay(letter!.id)).sent, 1, TWO_LOOKUPS);
    expect(api.commands).toHaveLength(1);
    const first = (await currentDelivery(message.delivery_id)).decisions.map((d: any) => d.command_id);

    const again = await replay(letter!.id);
    expect(again.status).toBe(202);
    await runConsumer(again.sent, 1, TWO_LOOKUPS);
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
    const current = await currentDelivery(message.delivery_id);
    expect(current.decisions.map((d: any) => d.command_id)).toEqual(first);
    const stored = await (await exports.default.fetch(`${RELAY}/v1/dead-letters/${letter!.id}`, { headers: ADMIN })).json<Record<string, any>>();
    expect(stored.replays).toEqual([
      { at: expect.any(String), by: "admin token" },
      { at: expect.any(String), by: "admin token" },
    ]);
  });

  it("answers 404 for an unknown id and refuses a replay posted from another site", async () => {
    const message = await deadLetteredDelivery();
    await runDeadLetterConsumer([message]);
    const [letter] = (await listDeadLetters()).dead_letters;
    expect((await replay("9999999999999-nope")).status).toBe(404);
    expect((await replay("../../delivery:x")).status).toBe(404);
    const crossSite = await replay(letter!.id, { ...ADMIN, origin: "https://evil.example" });
    expect(crossSite.status).toBe(401);
    expect(crossSite.sent).toEqual([]);
  });
});
