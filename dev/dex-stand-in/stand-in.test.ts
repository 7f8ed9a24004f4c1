import { describe, expect, it } from "vitest";
import { CommandQuotaResponse, CreateCommandsResponse, FailureEnvelope, ListCommandsResponse, ListDevicesResponse } from "../../src/model/dex-api";
import { createStandIn, type StandInOptions } from "./app";
import { CommandStore } from "./commands";
import { SEEDED_DEVICES, type AccountDevice } from "./devices";
import { fleetDevice, fleetDevices } from "./fleet";
import { CommandQuota } from "./quota";
import standIn from "./index";
import type { StandInEnv } from "./env";

const COMMANDS_URL = "http://stand-in.test/client/v4/accounts/local-account/dex/commands";
const AUTH = { authorization: "Bearer local-dev-dex-token" };
const START = new Date("2026-11-20T10:00:00Z");

const JANE = { device_id: "3f6c2a1e-7b4d-4e8a-9c1f-5d2b8e7a6c01", user_email: "jane.doe@example.com" };
const SAM = { device_id: "8a1d5e3c-2f7b-4c9a-b6e4-0d3f9c2a7b02", user_email: "sam.lee@example.com" };
const RAJ_OLD_WARP = { device_id: "2e7b9d4f-1c6a-4f3e-8b2d-9a5c7e1f4b04", user_email: "raj.patel@example.com" };
const KIOSK = "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03";
const KIOSK_NIGHT_SHIFT = "d4f1a8c3-6e2b-4d9f-a7c5-3b2e1f4a6d32";

/** A fresh stand-in on a clock the test moves; fault delays are recorded, not waited. */
function standInAt(start = START, env: StandInEnv = {}, options: Pick<StandInOptions, "devices" | "store" | "quota" | "fleet"> = {}) {
  let clock = start;
  const slept: number[] = [];
  const app = createStandIn({
    ...options,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return {
    app,
    slept,
    advance(ms: number) {
      clock = new Date(clock.getTime() + ms);
    },
    request: (url: string, init: RequestInit = {}) => app.request(url, { ...init, headers: { ...AUTH, ...init.headers } }, env),
    create: (commands: unknown[]) =>
      app.request(COMMANDS_URL, { method: "POST", headers: { ...AUTH, "content-type": "application/json" }, body: JSON.stringify({ commands }) }, env),
  };
}

async function errorsOf(res: Response) {
  const body = FailureEnvelope.parse(await res.json());
  expect(body.success).toBe(false);
  return body.errors;
}

describe("authentication", () => {
  it.each([
    ["no Authorization header", {}],
    ["an empty bearer token", { authorization: "Bearer " }],
    ["a Basic credential", { authorization: "Basic dXNlcjpwYXNz" }],
  ])("refuses %s with a 401 envelope", async (_, headers) => {
    const { app } = standInAt();

    const res = await app.request(`${COMMANDS_URL}/devices`, { headers });

    expect(res.status).toBe(401);
    expect(await errorsOf(res)).toEqual([{ code: 10000, message: "Authentication error" }]);
  });
});

describe("POST /dex/commands", () => {
  const warpDiag = { ...JANE, type: "warp-diag" };

  it.each([
    ["more than 10 commands", Array.from({ length: 11 }, () => warpDiag), "/commands"],
    ["an unknown type", [warpDiag, warpDiag, { ...JANE, type: "traceroute" }], "/commands/2/type"],
    ["pcap args on a warp-diag", [{ ...warpDiag, args: { "time-limit-min": 2 } }], "/commands/0/args"],
    ["a speed-test interface that does not exist", [{ ...JANE, type: "speed-test", args: { interfaces: ["wifi"] } }], "/commands/0/args/interfaces/0"],
    ["an unknown key", [{ ...warpDiag, command_type: "warp-diag" }], "/commands/0"],
    ["a device that is not in the account", [{ ...warpDiag, device_id: "00000000-0000-4000-8000-000000000000" }], "/commands/0/device_id"],
    ["a multi-user device without registration_id", [{ type: "pcap", device_id: KIOSK, user_email: "night.shift@example.com" }], "/commands/0/registration_id"],
    ["a registration of another device", [{ ...warpDiag, registration_id: KIOSK_NIGHT_SHIFT }], "/commands/0/registration_id"],
  ])("refuses %s with a 400 pointing at it", async (_, commands, pointer) => {
    const { create, request } = standInAt();

    const res = await create(commands);

    expect(res.status).toBe(400);
    const errors = await errorsOf(res);
    expect(errors[0]?.source?.pointer).toBe(pointer);
    expect(errors[0]?.code).toBeGreaterThan(0);
    const listed = ListCommandsResponse.parse(await (await request(COMMANDS_URL)).json());
    expect(listed.result?.commands).toEqual([]);
  });

  it("refuses a body that is not JSON", async () => {
    const { request } = standInAt();

    const res = await request(COMMANDS_URL, { method: "POST", body: "{commands:" });

    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.code).toBe(6007);
  });

  it("creates commands pending execution, naming the registration and echoing args as text", async () => {
    const { create } = standInAt();

    const res = await create([
      { ...JANE, type: "pcap", args: { "time-limit-min": 2 } },
      { type: "pcap", device_id: KIOSK, user_email: "night.shift@example.com", registration_id: KIOSK_NIGHT_SHIFT },
    ]);

    expect(res.status).toBe(200);
    const body = CreateCommandsResponse.parse(await res.json());
    expect(body.success).toBe(true);
    const [jane, kiosk] = body.result?.commands ?? [];
    expect(jane).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      args: { "time-limit-min": "2" },
      device_id: JANE.device_id,
      registration_id: "b7e4d2c1-9a3f-4b6e-8d5c-1f2a3b4c5d01",
      status: "PENDING_EXEC",
      type: "pcap",
    });
    expect(kiosk).toMatchObject({ device_id: KIOSK, registration_id: KIOSK_NIGHT_SHIFT });
    expect(kiosk?.id).not.toBe(jane?.id);
  });
});

describe("GET /dex/commands", () => {
  async function withThreeCommands() {
    const standIn = standInAt();
    await standIn.create([{ ...JANE, type: "pcap" }]);
    standIn.advance(1000);
    await standIn.create([{ ...SAM, type: "speed-test", args: { interfaces: ["default", "tunnel"] } }]);
    standIn.advance(1000);
    await standIn.create([{ ...RAJ_OLD_WARP, type: "warp-diag" }]);
    const list = async (query: string) => {
      const res = await standIn.request(`${COMMANDS_URL}?${query}`);
      expect(res.status).toBe(200);
      return ListCommandsResponse.parse(await res.json());
    };
    return { ...standIn, list };
  }

  it("lists newest first with result_info", async () => {
    const { list } = await withThreeCommands();

    const body = await list("page=1&per_page=2");

    expect(body.result?.commands.map((c) => c.user_email)).toEqual(["raj.patel@example.com", "sam.lee@example.com"]);
    expect(body.result_info).toEqual({ count: 2, page: 1, per_page: 2, total_count: 3, total_pages: 2 });
    expect(body.result?.commands[0]).toEqual({
      id: expect.any(String),
      completed_date: null,
      created_date: "2026-11-20T10:00:02.000Z",
      device_id: RAJ_OLD_WARP.device_id,
      filename: null,
      registration_id: "e9b3c6d2-7f4a-4c1e-b8d9-2a6f5e3c7b04",
      status: "PENDING_EXEC",
      type: "warp-diag",
      user_email: "raj.patel@example.com",
    });
  });

  it.each([
    [`device_id=${JANE.device_id}`, ["jane.doe@example.com"]],
    ["user_email=SAM.LEE@example.com", ["sam.lee@example.com"]],
    ["command_type=warp-diag", ["raj.patel@example.com"]],
    ["from=2026-11-20T10:00:01Z", ["raj.patel@example.com", "sam.lee@example.com"]],
    ["to=2026-11-20T10:00:00.500Z", ["jane.doe@example.com"]],
    ["status=PENDING_EXEC&command_type=pcap", ["jane.doe@example.com"]],
  ])("filters by %s", async (query, emails) => {
    const { list } = await withThreeCommands();

    const body = await list(query);

    expect(body.result?.commands.map((c) => c.user_email)).toEqual(emails);
  });

  it.each(["per_page=0", "per_page=51", "page=0", "from=yesterday", "status=DONE", "command_type=ping"])("refuses %s with a 400", async (query) => {
    const { request } = standInAt();

    const res = await request(`${COMMANDS_URL}?${query}`);

    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.code).toBe(1005);
  });

  it("moves commands along as time passes: upload, then success with a file, or failure", async () => {
    const { list, advance } = await withThreeCommands();
    const byType = async (query = "") => Object.fromEntries((await list(query)).result?.commands.map((c) => [c.type, c]) ?? []);

    advance(10_000);
    expect((await byType()).pcap?.status).toBe("PENDING_UPLOAD");

    advance(10_000);
    const done = await byType();
    expect(done.pcap).toMatchObject({
      status: "SUCCESS",
      filename: `pcap-${done.pcap?.id}.zip`,
      completed_date: "2026-11-20T10:00:20.000Z",
    });
    expect(done["speed-test"]).toMatchObject({ status: "SUCCESS", filename: null });
    // RAJ's WARP client is too old to run it.
    expect(done["warp-diag"]).toMatchObject({ status: "FAILED", filename: null });
    expect(Object.keys(await byType("status=SUCCESS")).sort()).toEqual(["pcap", "speed-test"]);
  });
});

describe("GET /dex/commands/devices", () => {
  async function search(query: string) {
    const res = await standInAt().request(`${COMMANDS_URL}/devices?${query}`);
    expect(res.status).toBe(200);
    return ListDevicesResponse.parse(await res.json());
  }

  it("finds a user's devices by email, ignoring case, eligible or not", async () => {
    const body = await search("search=JANE.DOE");

    expect(body.result?.devices.map((d) => [d.deviceName, d.eligible])).toEqual([
      ["JANE-MBP", true],
      ["JANE-IPHONE", false],
    ]);
    expect(body.result?.devices[1]).toMatchObject({
      platform: "ios",
      ineligibleReason: "Remote captures are not supported on mobile devices",
    });
  });

  it("lists a multi-user device once per registration", async () => {
    const body = await search("search=lobby-kiosk");

    const devices = body.result?.devices ?? [];
    expect(devices.map((d) => [d.deviceId, d.personEmail])).toEqual([
      [KIOSK, "front.desk@example.com"],
      [KIOSK, "night.shift@example.com"],
    ]);
    expect(new Set(devices.map((d) => d.registrationId)).size).toBe(2);
  });

  it("says when a device was last seen, within the hour", async () => {
    const body = await search("search=SAM-XPS13");

    expect(body.result?.devices[0]).toMatchObject({
      deviceId: SAM.device_id,
      status: "connected",
      timestamp: "2026-11-20T09:58:00.000Z",
      version: "2025.9.558.0",
    });
  });

  it("pages through everything when the search is empty", async () => {
    const body = await search("search=&page=2&per_page=5");

    expect(body.result?.devices).toHaveLength(2);
    expect(body.result_info).toEqual({ count: 2, page: 2, per_page: 5, total_count: 7, total_pages: 2 });
  });

  it("refuses more than 50 per page", async () => {
    const res = await standInAt().request(`${COMMANDS_URL}/devices?per_page=51`);

    expect(res.status).toBe(400);
  });
});

describe("the account's command quota", () => {
  async function quotaOf(request: (url: string) => Response | Promise<Response>) {
    const res = await request(`${COMMANDS_URL}/quota`);
    expect(res.status).toBe(200);
    return CommandQuotaResponse.parse(await res.json()).result;
  }

  it("counts every command created, and says what is left and when it resets: at 00:00 UTC by default", async () => {
    const { create, request } = standInAt();
    await create([
      { ...JANE, type: "warp-diag" },
      { ...SAM, type: "warp-diag" },
    ]);

    expect(await quotaOf(request)).toEqual({ quota: 998, quota_usage: 2, reset_time: "2026-11-21T00:00:00.000Z" });
  });

  it("refuses a create that does not fit in what is left, whole, with a 400 that names the quota", async () => {
    const { create, request } = standInAt(START, {}, { quota: new CommandQuota({ limit: 3, used: 2 }) });

    const refused = await create([
      { ...JANE, type: "warp-diag" },
      { ...SAM, type: "warp-diag" },
    ]);

    expect(refused.status).toBe(400);
    const [error] = await errorsOf(refused);
    expect(error).toEqual({ code: 1006, message: "Command quota exceeded: 2 of 3 commands used; the quota resets at 2026-11-21T00:00:00.000Z" });
    const listed = ListCommandsResponse.parse(await (await request(COMMANDS_URL)).json());
    expect(listed.result?.commands).toEqual([]);
    // One still fits.
    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(200);
    expect((await create([{ ...SAM, type: "warp-diag" }])).status).toBe(400);
    expect(await quotaOf(request)).toMatchObject({ quota: 0, quota_usage: 3 });
  });

  it("starts afresh at its reset, and every day after", async () => {
    const { create, request, advance } = standInAt(START, {}, { quota: new CommandQuota({ limit: 1, used: 1, resetAt: new Date("2026-11-20T10:30:00Z") }) });
    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(400);

    advance(30 * 60_000);
    expect(await quotaOf(request)).toEqual({ quota: 1, quota_usage: 0, reset_time: "2026-11-21T10:30:00.000Z" });
    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(200);
    advance(2 * 86_400_000);
    expect(await quotaOf(request)).toEqual({ quota: 1, quota_usage: 0, reset_time: "2026-11-23T10:30:00.000Z" });
  });

  it("carries the total in `quota` when told to, as the API reference documents it", async () => {
    const { create, request } = standInAt(START, {}, { quota: new CommandQuota({ limit: 5, field: "total" }) });
    await create([{ ...JANE, type: "warp-diag" }]);

    expect(await quotaOf(request)).toMatchObject({ quota: 5, quota_usage: 1 });
  });

  it("is set with POST /__quota, shown by GET / and put back by POST /__reset", async () => {
    const { app, request } = standInAt();
    const set = await app.request("/__quota", { method: "POST", body: JSON.stringify({ limit: 10, used: 10, reset_time: "2026-11-20T12:00:00Z" }) });

    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ quota: { limit: 10, used: 10, left: 0, reset_time: "2026-11-20T12:00:00.000Z", field: "remaining" } });
    expect(await quotaOf(request)).toEqual({ quota: 0, quota_usage: 10, reset_time: "2026-11-20T12:00:00.000Z" });
    expect((await (await app.request("/")).json<{ quota: { left: number } }>()).quota.left).toBe(0);

    await app.request("/__reset", { method: "POST" });
    expect(await quotaOf(request)).toEqual({ quota: 1000, quota_usage: 0, reset_time: "2026-11-21T00:00:00.000Z" });
  });

  it.each([
    ["a negative limit", { limit: -1 }, "/limit"],
    ["a reset time that is not one", { reset_time: "tomorrow" }, "/reset_time"],
    ["an unknown field reading", { field: "left" }, "/field"],
    ["an unknown key", { quota: 5 }, "/"],
  ])("refuses %s on POST /__quota, and changes nothing", async (_, body, pointer) => {
    const { app, request } = standInAt();

    const res = await app.request("/__quota", { method: "POST", body: JSON.stringify(body) });

    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.source?.pointer).toBe(pointer);
    expect(await quotaOf(request)).toMatchObject({ quota: 1000, quota_usage: 0 });
  });
});

describe("rate limit", () => {
  it("locks every call out for five minutes once the limit is passed, and counts the 429s", async () => {
    const { app, request, advance } = standInAt(START, { STAND_IN_RATE_LIMIT: "3" });
    const devices = () => request(`${COMMANDS_URL}/devices`);
    for (let i = 0; i < 3; i++) expect((await devices()).status).toBe(200);

    const refused = await devices();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("300");
    expect((await errorsOf(refused))[0]?.code).toBe(971);

    advance(240_000);
    const stillRefused = await devices();
    expect(stillRefused.status).toBe(429);
    expect(stillRefused.headers.get("retry-after")).toBe("60");

    advance(60_000);
    expect((await devices()).status).toBe(200);
    expect(await (await app.request("/")).json()).toMatchObject({ rate_limited: 2 });
  });

  it("counts requests in a rolling window", async () => {
    const { request, advance } = standInAt(START, { STAND_IN_RATE_LIMIT: "2" });
    const devices = () => request(`${COMMANDS_URL}/devices`);
    expect((await devices()).status).toBe(200);
    advance(200_000);
    expect((await devices()).status).toBe(200);

    advance(100_001); // the first request has left the five-minute window
    expect((await devices()).status).toBe(200);
  });

  it("uses the API's limit of 1,200 when the variable is unset", async () => {
    const { request } = standInAt(START, {});
    for (let i = 0; i < 1200; i++) await request(`${COMMANDS_URL}/quota`);

    expect((await request(`${COMMANDS_URL}/quota`)).status).toBe(429);
  });
});

describe("developer endpoints", () => {
  it("shows what was created, newest first, without a token, and resets on request", async () => {
    const { app, create, advance } = standInAt(START, { STAND_IN_RATE_LIMIT: "1" });
    await create([{ ...JANE, type: "pcap", args: { "time-limit-min": 2 } }]);
    advance(1000);
    expect((await create([{ ...SAM, type: "warp-diag" }])).status).toBe(429);

    const summary = await (await app.request("/")).json<{
      commands: { user_email: string; args: unknown; created_date: string }[];
      devices: number;
      calls: Record<string, number>;
      note: string;
    }>();
    expect(summary.commands.map((c) => [c.user_email, c.args, c.created_date])).toEqual([
      ["jane.doe@example.com", { "time-limit-min": 2 }, START.toISOString()],
    ]);
    expect(summary.calls).toEqual({ create: 2, list: 0, devices: 0, quota: 0 });
    expect(summary.devices).toBe(6);
    expect(summary.note).toBe("local DEX API stand-in; state resets on restart");

    expect((await app.request("/__reset", { method: "POST" })).status).toBe(200);
    const after = await (await app.request("/")).json<{ commands: unknown[]; calls: Record<string, number> }>();
    expect(after.commands).toEqual([]);
    expect(after.calls.create).toBe(0);
    expect((await create([{ ...SAM, type: "warp-diag" }])).status).toBe(200);
  });

  it("answers unknown API paths with a 404 envelope", async () => {
    const res = await standInAt().request("http://stand-in.test/client/v4/accounts/local-account/devices/physical-devices");

    expect(res.status).toBe(404);
    expect((await errorsOf(res))[0]?.code).toBe(7003);
  });

  it("serves the same API from its default export", async () => {
    const res = await standIn.fetch(new Request(`${COMMANDS_URL}/devices?search=priya`, { headers: AUTH }), {});

    const body = ListDevicesResponse.parse(await res.json());
    expect(body.result?.devices.map((d) => d.deviceName)).toEqual(["BUILD-LINUX-07"]);
  });
});

describe("fault switch", () => {
  type Summary = {
    commands: { id: string }[];
    calls: Record<string, number>;
    faults: Record<"create" | "list" | "devices" | "quota", { status: number }[]>;
  };

  async function withFaults(faults: unknown) {
    const standIn = standInAt();
    const res = await standIn.app.request("/__faults", { method: "POST", body: JSON.stringify(faults) });
    expect(res.status).toBe(200);
    const summary = async () => (await standIn.app.request("/")).json<Summary>();
    const list = async () => ListCommandsResponse.parse(await (await standIn.request(COMMANDS_URL)).json()).result?.commands ?? [];
    return { ...standIn, summary, list };
  }

  it("fails the next creates in order, one fault per call, then creates again", async () => {
    const { create, summary, list } = await withFaults({ create: [500, 502] });
    expect((await summary()).faults.create).toHaveLength(2);

    const first = await create([{ ...JANE, type: "warp-diag" }]);
    expect(first.status).toBe(500);
    expect(await errorsOf(first)).toEqual([{ code: 10001, message: "Internal server error" }]);
    expect((await summary()).faults.create).toEqual([{ status: 502, land: false, retry_after: null, delay_ms: 0 }]);

    const second = await create([{ ...JANE, type: "warp-diag" }]);
    expect(second.status).toBe(502);
    expect(await list()).toEqual([]);

    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(200);
    expect(await list()).toHaveLength(1);
    const after = await summary();
    expect(after.faults.create).toEqual([]);
    expect(after.calls.create).toBe(3);
  });

  it("creates the commands of a landing fault while the caller sees the failure", async () => {
    const { create, list } = await withFaults({ create: [{ status: 503, land: true }] });

    const res = await create([
      { ...JANE, type: "pcap" },
      { ...SAM, type: "warp-diag" },
    ]);

    expect(res.status).toBe(503);
    expect((await errorsOf(res))[0]?.message).toBe("Service unavailable");
    expect((await list()).map((c) => c.user_email).sort()).toEqual(["jane.doe@example.com", "sam.lee@example.com"]);
  });

  it("keeps the API's refusal of a bad create that was to land, and uses the fault up", async () => {
    const { create, summary } = await withFaults({ create: [{ status: 500, land: true }] });

    expect((await create([{ ...JANE, type: "traceroute" }])).status).toBe(400);
    expect((await summary()).faults.create).toEqual([]);
  });

  it("answers a queued 429 with Retry-After, without the rate limit's lockout", async () => {
    const { create } = await withFaults({ create: [{ status: 429, retry_after: 3 }, 429] });

    const first = await create([{ ...JANE, type: "warp-diag" }]);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect((await errorsOf(first))[0]?.code).toBe(971);
    expect((await create([{ ...JANE, type: "warp-diag" }])).headers.get("retry-after")).toBe("10");
    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(200);
  });

  it("fails only the route it was queued for", async () => {
    const { create, request, summary } = await withFaults({ list: [503], devices: [500] });

    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(200);
    expect((await request(`${COMMANDS_URL}/quota`)).status).toBe(200);
    expect((await request(`${COMMANDS_URL}/devices?search=jane`)).status).toBe(500);
    expect((await request(`${COMMANDS_URL}/devices?search=jane`)).status).toBe(200);
    expect((await request(`${COMMANDS_URL}?per_page=5`)).status).toBe(503);
    expect((await request(COMMANDS_URL)).status).toBe(200);
    expect((await summary()).calls).toEqual({ create: 1, list: 2, devices: 2, quota: 1 });
  });

  it("waits delay_ms before answering, so the caller can time out", async () => {
    const { create, slept, list } = await withFaults({ create: [{ status: 504, land: true, delay_ms: 12_000 }] });

    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(504);
    expect(slept).toEqual([12_000]);
    expect(await list()).toHaveLength(1);
  });

  it("leaves faults alone for calls refused before they reach the API", async () => {
    const { app, summary } = await withFaults({ devices: [500] });

    expect((await app.request(`${COMMANDS_URL}/devices`)).status).toBe(401);
    expect((await summary()).faults.devices).toHaveLength(1);
  });

  it("adds to what is queued, and clears faults on DELETE or reset", async () => {
    const { app, create, summary, list } = await withFaults({ create: [500] });
    await app.request("/__faults", { method: "POST", body: JSON.stringify({ create: [502], list: [500] }) });
    expect((await summary()).faults.create.map((f) => f.status)).toEqual([500, 502]);
    expect((await create([{ ...JANE, type: "warp-diag" }])).status).toBe(500);

    expect((await app.request("/__faults", { method: "DELETE" })).status).toBe(200);
    expect((await summary()).faults).toEqual({ create: [], list: [], devices: [], quota: [] });
    expect(await list()).toEqual([]);

    await app.request("/__faults", { method: "POST", body: JSON.stringify({ create: [500] }) });
    await app.request("/__reset", { method: "POST" });
    expect((await summary()).faults.create).toEqual([]);
  });

  it.each([
    ["a status that is no server failure", { create: [404] }, "/create/0"],
    ["landing on a list", { list: [{ status: 500, land: true }] }, "/list/0/land"],
    ["a 429 that lands", { create: [{ status: 429, land: true }] }, "/create/0/land"],
    ["retry_after on a 500", { create: [{ status: 500, retry_after: 5 }] }, "/create/0/retry_after"],
    ["a delay past a minute", { create: [{ status: 500, delay_ms: 60_001 }] }, "/create/0/delay_ms"],
    ["an unknown route", { quotas: [500] }, "/"],
    ["an unknown key", { create: [{ status: 500, lands: true }] }, "/create/0"],
  ])("refuses %s with a 400 pointing at it, queueing nothing", async (_, faults, pointer) => {
    const { app } = standInAt();

    const res = await app.request("/__faults", { method: "POST", body: JSON.stringify(faults) });

    expect(res.status).toBe(400);
    expect((await errorsOf(res)).map((e) => e.source?.pointer)).toContain(pointer);
    const { faults: pending } = await (await app.request("/")).json<Summary>();
    expect(pending).toEqual({ create: [], list: [], devices: [], quota: [] });
  });

  it("refuses a body that is not JSON", async () => {
    const res = await standInAt().app.request("/__faults", { method: "POST", body: "{create:" });

    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.code).toBe(6007);
  });
});

describe("stand-in: a generated fleet", () => {
  const FLEET = 10_000;
  const listPage = async (s: ReturnType<typeof standInAt>, query: string) =>
    ListDevicesResponse.parse(await (await s.request(`${COMMANDS_URL}/devices?${query}`)).json());

  it("enrols a fleet besides the seed, and pages and searches it as the API does", async () => {
    const s = standInAt(START, {}, { fleet: FLEET });
    const registrations = fleetDevices(FLEET, START).length + SEEDED_DEVICES.length;

    const first = await listPage(s, "per_page=50");
    expect(first.result_info).toMatchObject({ page: 1, per_page: 50, count: 50, total_count: registrations, total_pages: Math.ceil(registrations / 50) });
    const last = await listPage(s, `per_page=50&page=${Math.ceil(registrations / 50)}`);
    expect(last.result?.devices.at(-1)).toMatchObject(fleetDevice(FLEET - 1, START).at(-1)!);

    const device = fleetDevice(4_242, START)[0]!;
    const byName = await listPage(s, `search=${device.deviceName.toLowerCase()}`);
    expect(byName.result?.devices).toEqual([device]);
    const byEmail = await listPage(s, `search=${device.personEmail.toUpperCase()}`);
    expect(byEmail.result?.devices.map((d) => d.deviceId)).toContain(device.deviceId);

    const summary = await (await s.app.request("/")).json();
    expect(summary).toMatchObject({ devices: FLEET + 6, fleet: FLEET, device_reads: { list: 2, search: 2 } });
    // Commands go to fleet devices like any other.
    expect((await s.create([{ type: "warp-diag", device_id: device.deviceId, user_email: device.personEmail }])).status).toBe(200);
  });

  it("gives every device a name of its own, and people one or two devices, some not eligible", () => {
    const devices = fleetDevices(FLEET, START);
    const names = new Map(devices.map((d) => [d.deviceName.toLowerCase(), d.deviceId]));
    expect(names.size).toBe(new Set(devices.map((d) => d.deviceId)).size);
    expect(devices.filter((d) => !d.eligible).length).toBeGreaterThan(FLEET / 20);
    expect(devices.filter((d) => d.personEmail === devices[8]!.personEmail).map((d) => d.platform)).toEqual(["mac", "ios"]);
    expect(devices.every((d) => START.getTime() - Date.parse(d.timestamp) < 3_600_000)).toBe(true);
  });

  it("takes the fleet's size from STAND_IN_FLEET, or from POST /__fleet, which refuses what is not a size", async () => {
    const s = standInAt(START, { STAND_IN_FLEET: "200" });
    expect((await listPage(s, "per_page=1")).result_info?.total_count).toBe(fleetDevices(200, START).length + SEEDED_DEVICES.length);

    const set = await s.app.request("/__fleet", { method: "POST", body: JSON.stringify({ devices: 1_000 }) }, {});
    expect(await set.json()).toEqual({ fleet: 1_000, registrations: fleetDevices(1_000, START).length + SEEDED_DEVICES.length });
    expect((await listPage(s, "per_page=1")).result_info?.total_count).toBe(fleetDevices(1_000, START).length + SEEDED_DEVICES.length);

    for (const body of ['{"devices": -1}', '{"devices": 1.5}', '{"devices": 50001}', '{"size": 10}', "ten"]) {
      expect((await s.app.request("/__fleet", { method: "POST", body }, {})).status).toBe(400);
    }
  });
});

describe("stand-in: devices and commands of the caller's own", () => {
  const LAB: AccountDevice = {
    deviceId: "lab-1",
    deviceName: "LAB-BENCH",
    personEmail: "lab@example.com",
    platform: "linux",
    status: "connected",
    registrationId: "reg-lab-1",
    eligible: true,
    ineligibleReason: null,
    timestamp: "2026-11-20T09:00:00Z",
    version: "2025.9.558.0",
  };

  it("knows only the devices it is given, read again on every call", async () => {
    const devices = [LAB];
    const s = standInAt(START, {}, { devices: () => devices });

    const listed = ListDevicesResponse.parse(await (await s.request(`${COMMANDS_URL}/devices`)).json());
    expect(listed.result?.devices).toEqual([LAB]);
    expect((await s.create([{ ...JANE, type: "warp-diag" }])).status).toBe(400);

    devices.push({ ...LAB, deviceId: "lab-2", registrationId: "reg-lab-2" });
    expect((await s.create([{ device_id: "lab-2", user_email: "lab@example.com", type: "warp-diag" }])).status).toBe(200);
  });

  it("with manual progress, moves a command only when it is settled", async () => {
    const store = new CommandStore({ progress: "manual" });
    const s = standInAt(START, {}, { store });
    const [created] = CreateCommandsResponse.parse(await (await s.create([{ ...JANE, type: "pcap" }])).json()).result!.commands;
    const listed = async () => ListCommandsResponse.parse(await (await s.request(COMMANDS_URL)).json()).result!.commands[0];

    s.advance(3_600_000);
    expect(await listed()).toMatchObject({ status: "PENDING_EXEC", filename: null, completed_date: null });

    store.settle(created!.id!, "SUCCESS", new Date("2026-11-20T11:00:00Z"), "capture.zip");
    expect(await listed()).toMatchObject({ status: "SUCCESS", filename: "capture.zip", completed_date: "2026-11-20T11:00:00.000Z" });
    expect((await s.request(`${COMMANDS_URL}/${created!.id}/downloads/capture.zip`)).status).toBe(200);
  });

  it("lists a command created elsewhere where it stands, in order of creation", async () => {
    const store = new CommandStore();
    const s = standInAt(START, {}, { store });
    await s.create([{ ...JANE, type: "warp-diag" }]);
    store.addExisting({
      id: "made-in-the-dashboard",
      created_date: "2026-11-20T09:59:00.000Z",
      device_id: SAM.device_id,
      registration_id: "c2a9f7e5-4b1d-4e3a-9f6c-7d8e2a1b3c02",
      status: "FAILED",
      type: "speed-test",
      user_email: SAM.user_email,
    });

    const listed = ListCommandsResponse.parse(await (await s.request(COMMANDS_URL)).json()).result!.commands;
    expect(listed.map((c) => [c.type, c.status])).toEqual([
      ["warp-diag", "PENDING_EXEC"],
      ["speed-test", "FAILED"],
    ]);
    expect(
      store
        .inOrder()
        .map((c) => c.id)
        .at(-1),
    ).toBe("made-in-the-dashboard");
  });
});

describe("stand-in: downloads", () => {
  it("serves a finished command's file as a real zip, to a caller with a token", async () => {
    const s = standInAt();
    const [created] = CreateCommandsResponse.parse(await (await s.create([{ ...JANE, type: "pcap" }])).json()).result!.commands;
    s.advance(25_000);
    const listed = ListCommandsResponse.parse(await (await s.request(COMMANDS_URL)).json()).result!.commands[0]!;
    expect(listed.filename).toBe(`pcap-${created!.id}.zip`);
    const url = `${COMMANDS_URL}/${created!.id}/downloads/${listed.filename}`;

    const file = await s.request(url);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("application/zip");
    expect(file.headers.get("content-disposition")).toBe(`attachment; filename="${listed.filename}"`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Local file header first, end-of-central-directory record last.
    expect([...bytes.slice(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    expect([...bytes.slice(-22, -18)]).toEqual([0x50, 0x4b, 0x05, 0x06]);

    expect((await s.app.request(url)).status).toBe(401);
    expect((await s.request(`${COMMANDS_URL}/${created!.id}/downloads/other.zip`)).status).toBe(404);
  });

  it("has no file before the command finishes", async () => {
    const s = standInAt();
    const [created] = CreateCommandsResponse.parse(await (await s.create([{ ...JANE, type: "warp-diag" }])).json()).result!.commands;
    expect((await s.request(`${COMMANDS_URL}/${created!.id}/downloads/warp-diag-${created!.id}.zip`)).status).toBe(404);
  });
});

describe("stand-in: report receivers", () => {
  const SECRET = "whsec_bG9jYWwtcmVzdWx0LXdlYmhvb2stc2VjcmV0";

  it("takes a PagerDuty note only with a REST key and a From address, and shows it", async () => {
    const s = standInAt();
    const note = (headers: Record<string, string>) =>
      s.app.request("http://stand-in.test/pagerduty/incidents/Q1DEMO/notes", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ note: { content: "pcap started" } }),
      });
    expect((await note({ from: "relay@example.com" })).status).toBe(401);
    expect((await note({ authorization: "Token token=local" })).status).toBe(400);
    expect((await note({ authorization: "Token token=local", from: "relay@example.com" })).status).toBe(201);
    const shown = await (await s.app.request("http://stand-in.test/")).json<Record<string, any>>();
    expect(shown.reports).toEqual([expect.objectContaining({ channel: "pagerduty-note", incident_id: "Q1DEMO", body: { note: { content: "pcap started" } } })]);
  });

  it("checks a result webhook's Standard Webhooks signature against the local secret", async () => {
    const s = standInAt(START, { STAND_IN_RESULT_WEBHOOK_SECRET: SECRET });
    const body = JSON.stringify({ type: "command.created", data: {} });
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("local-result-webhook-secret"), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`msg_1.1700000000.${body}`));
    const signature = `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
    const send = (sig: string) =>
      s.app.request(
        "http://stand-in.test/result-webhook",
        { method: "POST", headers: { "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": sig }, body },
        { STAND_IN_RESULT_WEBHOOK_SECRET: SECRET },
      );
    expect((await send(signature)).status).toBe(204);
    expect((await send("v1,AAAA")).status).toBe(204);
    const shown = await (await s.app.request("http://stand-in.test/")).json<Record<string, any>>();
    expect(shown.reports.map((r: any) => r.signature_valid)).toEqual([false, true]);
  });
});
