import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import { isolateEachTest, postZapier, RELAY, runConsumer } from "../helpers/relay";

const ADMIN = { authorization: "Bearer admin-test-token" };

/**
 * A warp-diag on SAM-XPS13 that DEX reports finished, with its file, which the DEX API then
 * serves; `commandId` names it as the API would (a UUID unless given).
 */
async function finishedCommand(commandId?: string) {
  const api = mockDexApi(undefined, {}, commandId ? { commandId: () => commandId } : {});
  const { queued } = await postZapier({ id: "DL-1", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
  await runConsumer(queued);
  const { id } = api.commands[0]!;
  api.settle(id, "SUCCESS", `warp-diag-${id}.zip`);
  await runLedgerAlarm();
  return { command: api.commands[0]!, api };
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("GET /v1/commands/{id}/download", () => {
  it("streams the file to an operator, with its name, never cached", async () => {
    const { command, api } = await finishedCommand();
    const res = await exports.default.fetch(`${RELAY}/v1/commands/${command.id}/download`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${command.filename}"`);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    // A zip archive: it starts with a local file header.
    expect(new Uint8Array(await res.arrayBuffer()).slice(0, 4)).toEqual(new Uint8Array([0x50, 0x4b, 0x03, 0x04]));
    // The relay's own DEX token, not the operator's, goes to the API.
    expect(api.callsTo("download").map((call) => call.headers.get("authorization"))).toEqual(["Bearer test-dex-token"]);
  });

  it("refuses anyone without the admin token, and everyone while it is unset", async () => {
    const { command, api } = await finishedCommand();
    const url = `${RELAY}/v1/commands/${command.id}/download`;
    for (const headers of [{}, { authorization: "Bearer zapier-test-token" }, { authorization: "Bearer nope" }] as Record<string, string>[]) {
      const res = await exports.default.fetch(url, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized" });
    }
    const { app } = await import("../../src/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const unset = await app.request(url, { headers: ADMIN }, { ...env, ADMIN_TOKEN: "" }, createExecutionContext());
    expect(unset.status).toBe(401);
    expect(api.callsTo("download")).toEqual([]);
  });

  it("answers 404 for a command the relay did not create, or one without a file yet", async () => {
    mockDexApi();
    const { queued } = await postZapier({ id: "DL-2", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    await runConsumer(queued);
    for (const id of ["00000000-0000-4000-8000-000000000000", "../../etc/passwd"]) {
      expect((await exports.default.fetch(`${RELAY}/v1/commands/${encodeURIComponent(id)}/download`, { headers: ADMIN })).status).toBe(404);
    }
  });

  // The API types a command id as a plain string: nothing says it stays a UUID.
  it.each(["cmd_01JDX9V2Q7K3M8N4P5R6S7T8W9", "4711", "run #7/8?x=1"])(
    "serves a finished command whose DEX id is %j, its id URL-encoded in the path",
    async (dexId) => {
      const { command, api } = await finishedCommand(dexId);
      expect(command.id).toBe(dexId);
      const res = await exports.default.fetch(`${RELAY}/v1/commands/${encodeURIComponent(dexId)}/download`, { headers: ADMIN });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toContain(`filename="warp-diag-`);
      expect(new Uint8Array(await res.arrayBuffer()).slice(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]));
      // The id goes to the DEX API as one encoded path segment, never as a path of its own.
      expect(api.callsTo("download").map((call) => call.url.pathname.split("/").at(-3))).toEqual([encodeURIComponent(dexId)]);
    },
  );

  it("answers 404 for an id of any shape the ledger does not hold, without asking the DEX API", async () => {
    const { api } = await finishedCommand("cmd_01JDX9V2Q7K3M8N4P5R6S7T8W9");
    for (const id of [
      "cmd_01JDX9V2Q7K3M8N4P5R6S7T8W8",
      "cmd_01jdx9v2q7k3m8n4p5r6s7t8w9",
      "4711",
      "00000000-0000-4000-8000-000000000000",
      "a b#c",
      "%00",
      "ü",
    ]) {
      const res = await exports.default.fetch(`${RELAY}/v1/commands/${encodeURIComponent(id)}/download`, { headers: ADMIN });
      expect(res.status, id).toBe(404);
    }
    expect(api.callsTo("download")).toEqual([]);
  });

  it("answers 404 for an absurdly long id without asking the ledger", async () => {
    mockDexApi();
    const fileOf = vi.fn(async () => undefined);
    vi.spyOn(env.COMMAND_LEDGER, "get").mockReturnValue({ fileOf } as unknown as ReturnType<typeof env.COMMAND_LEDGER.get>);
    const download = (id: string) => exports.default.fetch(`${RELAY}/v1/commands/${encodeURIComponent(id)}/download`, { headers: ADMIN });
    // The longest id the relay looks up does reach the ledger, which says it holds no such command...
    expect((await download("c".repeat(256))).status).toBe(404);
    expect(fileOf).toHaveBeenCalledTimes(1);
    // ...one longer is refused before it.
    for (const id of ["c".repeat(257), "c".repeat(10_000)]) expect((await download(id)).status).toBe(404);
    expect(fileOf).toHaveBeenCalledTimes(1);
  });

  it("answers 503 with Retry-After while the DEX API rate limits the relay, and 502 when it fails", async () => {
    const { command, api } = await finishedCommand();
    api.failNext("download", apiError(429, "rate limited", undefined, { "retry-after": "120" }));
    const res = await exports.default.fetch(`${RELAY}/v1/commands/${command.id}/download`, { headers: ADMIN });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(100);
  });

  it("answers 502 when the DEX API cannot give the file", async () => {
    const { command, api } = await finishedCommand();
    api.failNext("download", apiError(500, "internal"));
    const res = await exports.default.fetch(`${RELAY}/v1/commands/${command.id}/download`, { headers: ADMIN });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: "the DEX API did not give the file; retry later" });
  });
});
