import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/consume/queue-consumer";
import { apiError, enrol, JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";

/** A device the DEX API lists as connected, for the alert about it. */
const enrolled = (deviceId: string, email: string) => (enrol(deviceId, email), deviceId);
import { deliveryRecord, isolateEachTest, postZapier, runConsumer } from "../helpers/relay";

/** Alerts whose device is given outright, so only create (and reconcile) calls reach the API. */
async function queueAlerts(count: number, prefix: string) {
  const messages = [];
  for (let i = 0; i < count; i++) {
    const { status, queued } = await postZapier({
      id: `${prefix}-${i}`,
      title: "Disk latency",
      severity: "critical",
      device_id: enrolled(`device-${prefix}-${i}`, `user${i}@example.com`),
      user_email: `user${i}@example.com`,
    });
    expect(status).toBe(202);
    messages.push(queued[0]!);
  }
  return messages;
}

/** Runs the consumer the way the queue would: retried messages come back, up to the last attempt. */
async function drain(messages: unknown[]) {
  let pending = messages.map((body) => ({ body, attempts: 1 }));
  for (let round = 0; round < MAX_DELIVERY_ATTEMPTS && pending.length > 0; round++) {
    const result = await runConsumer(pending.map((p) => p.body), round + 1);
    const retried = new Set(result.retryMessages.map((m) => m.msgId));
    // The budget lockout is time-based; tests skip the wait rather than sleep through it.
    await env.RELAY_KV.delete("budget:lockout");
    pending = pending.filter((_, i) => retried.has(`msg-${i}`)).map((p) => ({ ...p, attempts: p.attempts + 1 }));
  }
}

isolateEachTest();

describe("the DEX API misbehaving", () => {
  it("500 several times in a row, then success: exactly one command", async () => {
    const api = mockDexApi();
    const [message] = await queueAlerts(1, "five-hundreds");
    api.failNext("create", apiError(500, "internal error"), apiError(500, "internal error"));
    await drain([message]);
    expect(api.commands).toHaveLength(1);
    expect(api.callsTo("create")).toHaveLength(3);
    expect((await deliveryRecord(message!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "created", command_id: api.commands[0]!.id });
  });

  it("a timeout: the create is treated as maybe-landed and checked before creating again", async () => {
    const api = mockDexApi();
    const [message] = await queueAlerts(1, "timeout");
    // Make the client's deadline pass at once instead of after ten seconds.
    vi.spyOn(AbortSignal, "timeout").mockImplementation(() => AbortSignal.abort(new DOMException("timed out", "TimeoutError")));
    api.failNext("create", "timeout");
    await runConsumer([message]);
    expect((await deliveryRecord(message!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "retrying" });

    vi.mocked(AbortSignal.timeout).mockRestore();
    await runConsumer([message], 2);
    // Checked once in the attempt that timed out, once more before the create that lands.
    expect(api.callsTo("list")).toHaveLength(2);
    expect(api.callsTo("create")).toHaveLength(2);
    expect(api.commands).toHaveLength(1);
  });

  it("the connection lost after the command was created: found, not created twice", async () => {
    const api = mockDexApi();
    const [message] = await queueAlerts(1, "lost");
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
    expect((await deliveryRecord(queued[0]!.delivery_id))?.decisions[0]).toMatchObject({ outcome: "retrying", reason: expect.stringContaining("device lookup failed") });
    await runConsumer(queued, 2);
    expect(api.commands.map((c) => c.device_id)).toEqual([SAM.deviceId]);
  });
});

describe("KV failing", () => {
  it("a KV write that throws retries the whole batch, and the retry creates each command once", async () => {
    const api = mockDexApi();
    const messages = await queueAlerts(3, "kv-put");
    const put = env.RELAY_KV.put.bind(env.RELAY_KV);
    let failures = 0;
    vi.spyOn(env.RELAY_KV, "put").mockImplementation(async (key, value, options) => {
      // The outcome write fails once, after the create was sent: the worst moment.
      if (String(key).startsWith("done:") && failures++ === 0) throw new Error("KV PUT failed: 500 Internal Server Error");
      return put(key, value, options);
    });
    const first = await runConsumer(messages);
    expect(first.retryMessages).toHaveLength(3);
    expect(api.commands).toHaveLength(3);

    await runConsumer(messages, 2);
    expect(api.commands).toHaveLength(3);
    for (const message of messages) {
      expect((await deliveryRecord(message.delivery_id))?.decisions[0]?.outcome).toBe("created");
    }
  });

  it("a KV read that throws retries the batch and sends nothing", async () => {
    const api = mockDexApi();
    const messages = await queueAlerts(2, "kv-get");
    vi.spyOn(env.RELAY_KV, "get").mockRejectedValue(new Error("KV GET failed: 503"));
    const result = await runConsumer(messages);
    expect(result.retryMessages).toHaveLength(2);
    expect(api.calls).toHaveLength(0);
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
        const messages = await queueAlerts(count, `prop-${faults.length}-${count}`);
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
          const record = await deliveryRecord(message.delivery_id);
          const decision = record?.decisions[0];
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
    const messages = await queueAlerts(2, "reconcile-429");
    // The create lands but the answer is lost, and the check that follows is refused.
    api.landThenFail("network");
    api.failNext("list", apiError(429, "rate limited", undefined, { "retry-after": "90" }));
    const first = await runConsumer(messages);
    expect(first.retryDelays).toEqual({ "msg-0": 90, "msg-1": 90 });
    expect(api.callsTo("create")).toHaveLength(1);
    expect(await env.RELAY_KV.get("budget:lockout")).not.toBeNull();

    // While locked out, nothing at all is sent: the calls are the first attempt's two
    // device lookups, its create and its check.
    await runConsumer(messages, 2);
    expect(api.calls).toHaveLength(4);

    await env.RELAY_KV.delete("budget:lockout");
    await runConsumer(messages, 3);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.commands).toHaveLength(2);
    for (const message of messages) {
      expect((await deliveryRecord(message.delivery_id))?.decisions[0]?.outcome).toBe("created");
    }
  });
});
