import { describe, expect, it } from "vitest";
import { DexApiError } from "../model/dex-api-error";
import type { CommandInput, CreatedCommand } from "../model/dex-api";
import { sendCommands, type CommandCreator } from "./send-commands";

function commands(n: number): CommandInput[] {
  return Array.from({ length: n }, (_, i) => ({ type: "warp-diag", device_id: `d-${i}`, user_email: `u${i}@example.com` }));
}

/** A creator that answers each call with `answer`, and remembers what each call carried. */
function creator(answer: (batch: CommandInput[], call: number) => CreatedCommand[]): CommandCreator & { calls: CommandInput[][] } {
  const calls: CommandInput[][] = [];
  return {
    calls,
    async createCommands(batch) {
      calls.push(batch);
      return answer(batch, calls.length);
    },
  };
}

const echo = (batch: CommandInput[]) => batch.map((c) => ({ id: `cmd-${c.device_id}`, device_id: c.device_id, type: c.type, status: "PENDING_EXEC" as const }));

describe("sendCommands", () => {
  it("sends N commands in ceil(N/10) calls of at most 10", async () => {
    const api = creator(echo);
    const { results, calls } = await sendCommands(api, commands(25));
    expect(calls).toBe(3);
    expect(api.calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(results.every((r) => r.state === "created")).toBe(true);
    expect(results[24]).toEqual({ state: "created", command_id: "cmd-d-24" });
  });

  it("pairs created commands with what was sent even when the API reorders them", async () => {
    const api = creator((batch) => echo(batch).reverse());
    const { results } = await sendCommands(api, commands(3));
    expect(results).toEqual([0, 1, 2].map((i) => ({ state: "created", command_id: `cmd-d-${i}` })));
  });

  it("pairs a created command that carries a registration the request did not send", async () => {
    const api = creator((batch) => echo(batch).map((c) => ({ ...c, registration_id: `reg-${c.device_id}` })));
    const { results } = await sendCommands(api, commands(2));
    expect(results).toEqual([0, 1].map((i) => ({ state: "created", command_id: `cmd-d-${i}` })));
  });

  it("does not pair a created command registered to another user than the one sent", async () => {
    const api = creator((batch) => echo(batch).map((c) => ({ ...c, registration_id: "someone-else" })));
    const { results } = await sendCommands(api, [{ ...commands(1)[0]!, registration_id: "the-user" }]);
    expect(results[0]?.state).toBe("uncertain");
  });

  it("treats a command the API did not return as uncertain", async () => {
    const api = creator((batch) => echo(batch).slice(1));
    const { results } = await sendCommands(api, commands(2));
    expect(results[0]?.state).toBe("uncertain");
    expect(results[1]?.state).toBe("created");
  });

  it("fails only the command a 400's pointer names, and sends the rest again", async () => {
    const api = creator((batch, call) => {
      if (call === 1) {
        throw new DexApiError("rejected", "DEX API 400: device not found", {
          status: 400,
          errors: [{ code: 1001, message: "device not found", source: { pointer: "/commands/1/device_id" } }],
        });
      }
      return echo(batch);
    });
    const { results, calls } = await sendCommands(api, commands(3));
    expect(calls).toBe(2);
    expect(results.map((r) => r.state)).toEqual(["created", "failed", "created"]);
    expect(api.calls[1]?.map((c) => c.device_id)).toEqual(["d-0", "d-2"]);
  });

  it("halves a refused batch until the bad command is alone when the API does not say which", async () => {
    const api = creator((batch) => {
      if (batch.some((c) => c.device_id === "d-6")) {
        throw new DexApiError("rejected", "DEX API 400: invalid request", { status: 400, errors: [{ code: 1000, message: "invalid request" }] });
      }
      return echo(batch);
    });
    const { results } = await sendCommands(api, commands(10));
    expect(results.filter((r) => r.state === "failed")).toHaveLength(1);
    expect(results[6]).toEqual({ state: "failed", error: "DEX API 400: invalid request" });
    expect(results.filter((r) => r.state === "created")).toHaveLength(9);
  });

  it("fails the whole batch at once on a refusal that is not about its content", async () => {
    const api = creator(() => {
      throw new DexApiError("rejected", "DEX API 403: forbidden", { status: 403, errors: [{ code: 10000, message: "forbidden" }] });
    });
    const { results, calls } = await sendCommands(api, commands(5));
    expect(calls).toBe(1);
    expect(results.every((r) => r.state === "failed")).toBe(true);
  });

  it("stops sending after a 429 and marks everything unsent as rate limited", async () => {
    const api = creator((batch, call) => {
      if (call === 2) throw new DexApiError("rate-limited", "DEX API 429", { status: 429, retryAfterSeconds: 120 });
      return echo(batch);
    });
    const { results, calls } = await sendCommands(api, commands(30));
    expect(calls).toBe(2);
    expect(results.slice(0, 10).every((r) => r.state === "created")).toBe(true);
    expect(results.slice(10)).toEqual(Array(20).fill({ state: "rate-limited", retryAfterSeconds: 120 }));
  });

  /** An API whose command quota has `left` commands, refusing a create that does not fit whole. */
  function withQuota(left: number, refusal: { status: number; kind: "rejected" | "rate-limited" } = { status: 400, kind: "rejected" }) {
    return creator((batch) => {
      if (batch.length > left) {
        const message = "Command quota exceeded for this account";
        throw new DexApiError(refusal.kind, `DEX API ${refusal.status}: ${message}`, { status: refusal.status, errors: [{ code: 1006, message }] });
      }
      left -= batch.length;
      return echo(batch);
    });
  }

  it("a batch refused for the quota is halved until what fits goes out; the rest is quota-spent, never failed", async () => {
    const api = withQuota(3);
    const { results, calls } = await sendCommands(api, commands(10));
    expect(results.filter((r) => r.state === "created")).toHaveLength(3);
    expect(results.filter((r) => r.state === "quota-spent")).toHaveLength(7);
    expect(results.some((r) => r.state === "failed")).toBe(false);
    // 10 → 5 → 3 (created) → 2 → 1 refused, and then nothing more is sent.
    expect(api.calls.map((c) => c.length)).toEqual([10, 5, 3, 2, 1]);
    expect(calls).toBe(5);
  });

  it("a quota refusal stops the batches that follow without calling the API", async () => {
    const api = withQuota(0);
    const { results, calls } = await sendCommands(api, commands(12));
    expect(results).toEqual(Array(12).fill({ state: "quota-spent", error: "DEX API 400: Command quota exceeded for this account" }));
    // The first batch of 10 is halved down to one refused command; the batch of 2 is never sent.
    expect(calls).toBe(5);
  });

  it("a 429 that says the quota is spent is quota-spent, not a rate limit to wait out", async () => {
    const api = withQuota(0, { status: 429, kind: "rate-limited" });
    const { results } = await sendCommands(api, commands(1));
    expect(results).toEqual([{ state: "quota-spent", error: "DEX API 429: Command quota exceeded for this account" }]);
  });

  it("a 5xx that mentions the quota may still have landed: uncertain", async () => {
    const api = creator(() => {
      throw new DexApiError("ambiguous", "DEX API 503: quota service unavailable", {
        status: 503,
        errors: [{ code: 10001, message: "quota service unavailable" }],
      });
    });
    const { results } = await sendCommands(api, commands(1));
    expect(results[0]?.state).toBe("uncertain");
  });

  it("marks a batch whose create may have landed as uncertain, never as failed", async () => {
    const api = creator(() => {
      throw new DexApiError("ambiguous", "DEX API 502: bad gateway", { status: 502 });
    });
    const { results } = await sendCommands(api, commands(2));
    expect(results).toEqual(Array(2).fill({ state: "uncertain", error: "DEX API 502: bad gateway" }));
  });

  it("lets an error that is not the API's propagate", async () => {
    const api = creator(() => {
      throw new TypeError("boom");
    });
    await expect(sendCommands(api, commands(1))).rejects.toThrow("boom");
  });
});
