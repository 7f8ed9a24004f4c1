import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/consume/queue-consumer";
import { DELIVERY_PREFIX } from "../../src/model/kv-keys";
import { apiError, JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, ledger, runLedgerAlarm, settleLedger } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, postZapier, queueAlertsOnOwnDevices, runConsumer } from "../helpers/relay";

/**
 * Runs the consumer the way the queue would (retried messages come back, up to the last
 * attempt), and the command ledger's alarms the way the runtime would, until both are done.
 */
async function drain(messages: unknown[]) {
  let pending = messages.map((body) => ({ body, attempts: 1 }));
  for (let round = 0; round < MAX_DELIVERY_ATTEMPTS && pending.length > 0; round++) {
    const result = await runConsumer(
      pending.map((p) => p.body),
      round + 1,
    );
    const retried = new Set(result.retryMessages.map((m) => m.msgId));
    pending = pending.filter((_, i) => retried.has(`msg-${i}`)).map((p) => ({ ...p, attempts: p.attempts + 1 }));
  }
  await settleLedger();
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("the DEX API misbehaving", () => {
  it("500 several times in a row, then success: exactly one command, retried by the ledger within seconds", async () => {
    const api = mockDexApi();
    const [message] = await queueAlertsOnOwnDevices(1, "five-hundreds");
    api.failNext("create", apiError(500, "internal error"), apiError(500, "internal error"));
    const start = Date.now();
    const result = await runConsumer([message]);
    // The ledger holds the command now: the queue has nothing left to retry.
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect((await deliveryRecord(message!.delivery_id))?.decisions[0]).toMatchObject({
      outcome: "retrying",
      reason: expect.stringContaining("retrying in 2 s"),
    });

    await settleLedger();
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(3);
    // 2 s, then 4 s: two transient 500s cost seconds, not the queue's minutes.
    expect(Date.now() - start).toBeLessThanOrEqual(7_000);
    const current = await currentDelivery(message!.delivery_id);
    expect(current.decisions[0]).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id });
    expect(current.state).toBe("done");
  });

  it("a timeout: the create is treated as maybe-landed and checked before creating again", async () => {
    const api = mockDexApi();
    const [message] = await queueAlertsOnOwnDevices(1, "timeout");
    // Make the client's deadline pass at once instead of after ten seconds.
    vi.spyOn(AbortSignal, "timeout").mockImplementation(() => AbortSignal.abort(new DOMException("timed out", "TimeoutError")));
    api.failNext("create", "timeout");
    await runConsumer([message]);
    expect((await deliveryRecord(message!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "retrying" });

    vi.mocked(AbortSignal.timeout).mockRestore();
    await runLedgerAlarm();
    // Checked once in the attempt that timed out, once more before the create that lands.
    expect(api.callsTo("list")).toHaveLength(2);
    expect(api.callsTo("create")).toHaveLength(2);
    expect(api.commands).toHaveLength(1);
  });

  it("the connection lost after the command was created: found, not created twice", async () => {
    const api = mockDexApi();
    const [message] = await queueAlertsOnOwnDevices(1, "lost");
    api.landThenFail("network");
    await drain([message]);
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await deliveryRecord(message!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id });
  });

  it("a device lookup that fails for a passing reason is retried, not dropped", async () => {
    const api = mockDexApi();
    const { queued } = await postZapier({ id: "lookup-503", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    api.failNext("devices", apiError(503, "unavailable"));
    const first = await runConsumer(queued);
    expect(first.retryMessages).toHaveLength(1);
    expect((await deliveryRecord(queued[0]!.delivery_id))?.decisions[0]).toMatchObject({
      outcome: "retrying",
      reason: expect.stringContaining("device lookup failed"),
    });
    await runConsumer(queued, 2);
    expect(api.commands.map((c) => c.device_id)).toEqual([SAM.deviceId]);
  });
});

describe("storage failing", () => {
  it("a delivery record that cannot be written retries that message, and the retry creates nothing new", async () => {
    const api = mockDexApi();
    const messages = await queueAlertsOnOwnDevices(3, "kv-put");
    const put = env.RELAY_KV.put.bind(env.RELAY_KV);
    let failures = 0;
    vi.spyOn(env.RELAY_KV, "put").mockImplementation(async (key, value, options) => {
      // The first record write fails, after the creates were sent: the worst moment.
      if (String(key).startsWith(DELIVERY_PREFIX) && failures++ === 0) throw new Error("KV PUT failed: 500 Internal Server Error");
      return put(key, value, options);
    });
    const first = await runConsumer(messages);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.explicitAcks).toHaveLength(2);
    expect(api.commands).toHaveLength(3);

    await runConsumer(messages, 2);
    expect(api.callsTo("create")).toHaveLength(1);
    for (const message of messages) {
      expect((await deliveryRecord(message.delivery_id))?.decisions[0]?.outcome).toBe("created");
    }
  });

  it("a KV read that throws during a device lookup is a cache miss: the device is looked up at the API, and the capture goes out", async () => {
    const api = mockDexApi();
    const { queued } = await postZapier({ id: "kv-get", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    vi.spyOn(env.RELAY_KV, "get").mockRejectedValue(new Error("KV GET failed: 503"));
    vi.spyOn(env.RELAY_KV, "getWithMetadata").mockRejectedValue(new Error("KV GET failed: 503"));
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const result = await runConsumer(queued);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.callsTo("devices")).toHaveLength(1);
    expect(api.commands.map((c) => c.device_id)).toEqual([SAM.deviceId]);
    const problems = errors.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(problems).toContainEqual(expect.objectContaining({ event: "device-cache-read-failed", error: "KV GET failed: 503" }));
    vi.mocked(env.RELAY_KV.get).mockRestore();
    vi.mocked(env.RELAY_KV.getWithMetadata).mockRestore();
    expect((await deliveryRecord(queued[0]!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "created" });
  });
});

describe("any schedule of API faults", () => {
  it("ends every alert as exactly one command or a recorded failure; none lost, none created twice", async () => {
    const fault = fc.constantFrom(
      apiError(500, "internal error"),
      apiError(502, "bad gateway"),
      apiError(429, "rate limited", undefined, { "retry-after": "1" }),
      apiError(400, "device is offline", "/commands/0/device_id"),
      "network" as const,
      "land-then-500" as const,
      "land-then-network" as const,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { maxLength: 8 }), fc.integer({ min: 1, max: 14 }), async (faults, count) => {
        await reset();
        const api = mockDexApi([JANE]);
        const messages = await queueAlertsOnOwnDevices(count, `prop-${faults.length}-${count}`);
        for (const f of faults) {
          if (f === "land-then-500") api.landThenFail(apiError(500, "internal error"));
          else if (f === "land-then-network") api.landThenFail("network");
          else api.failNext("create", f);
        }
        await drain(messages);

        // Never two commands for one device: one alert each.
        const perDevice = new Map<string, number>();
        for (const c of api.commands) perDevice.set(c.device_id!, (perDevice.get(c.device_id!) ?? 0) + 1);
        expect([...perDevice.values()].every((n) => n === 1)).toBe(true);

        for (const message of messages) {
          const decision = (await currentDelivery(message.delivery_id)).decisions[0];
          const created = api.commands.find((c) => c.device_id === message.alerts[0]!.target.device_id);
          if (decision?.outcome === "created") {
            expect(created?.id).toBe(decision.command_id);
          } else {
            // Not created: then it was refused or gave up, and says so.
            expect(decision?.outcome).toBe("failed");
            expect(created).toBeUndefined();
          }
        }
        vi.restoreAllMocks();
        vi.useRealTimers();
        vi.spyOn(console, "log").mockImplementation(() => undefined);
        vi.spyOn(console, "error").mockImplementation(() => undefined);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe("a 429 while checking an uncertain create", () => {
  it("locks the token out and sends nothing until Retry-After, then finishes the job once", async () => {
    const api = mockDexApi();
    const messages = await queueAlertsOnOwnDevices(2, "reconcile-429");
    // The create lands but the answer is lost, and the check that follows is refused.
    api.landThenFail("network");
    api.failNext("list", apiError(429, "rate limited", undefined, { "retry-after": "90" }));
    const first = await runConsumer(messages);
    expect(first.explicitAcks).toHaveLength(2);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(await ledger().takeApiCalls(1)).toBeGreaterThan(80);

    // While locked out, nothing at all is sent: the new alert's device comes from the device
    // list read for the first alerts a moment ago, and its create waits out the lockout.
    advanceClock(30_000);
    const { queued } = await postZapier({ id: "during-lockout", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    const callsBefore = api.calls.length;
    const during = await runConsumer(queued);
    expect(during.explicitAcks).toEqual(["msg-0"]);
    expect((await deliveryRecord(queued[0]!.delivery_id))?.decisions[0]).toMatchObject({
      outcome: "retrying",
      reason: expect.stringMatching(/asked to wait (59|60) s/),
    });
    expect(api.calls).toHaveLength(callsBefore);

    // Then the two commands that landed are found, not created again, and the new alert's is created.
    await settleLedger();
    expect(api.callsTo("create")).toHaveLength(2);
    expect(api.callsTo("create")[1]?.body).toMatchObject({ commands: [{ device_id: SAM.deviceId }] });
    expect(api.commands).toHaveLength(3);
    for (const message of [...messages, ...queued]) {
      expect((await currentDelivery(message.delivery_id)).decisions[0]?.outcome).toBe("created");
    }
  });
});
