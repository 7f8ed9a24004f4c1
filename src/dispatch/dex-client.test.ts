import { afterEach, describe, expect, it, vi } from "vitest";
import { DexClient, type DexClientOptions } from "./dex-client";
import { DexApiError, isDexApiError, isQuotaRefusal } from "../model/dex-api-error";
import type { CommandInput } from "../model/dex-api";

const BASE = "https://dex.test/client/v4";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "dex-token-never-to-be-shown";
const COMMANDS_PATH = `/client/v4/accounts/${ACCOUNT}/dex/commands`;
const NOW = new Date("2026-11-20T10:00:00Z");

const JANE_PCAP: CommandInput = {
  type: "pcap",
  device_id: "5b1c9d4e-2f3a-4b6c-8d7e-9f0a1b2c3d4e",
  user_email: "jane.doe@example.com",
  args: { "time-limit-min": 2 },
};

interface SentRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

type Responder = (signal: AbortSignal | null | undefined) => Response | Promise<Response>;

/**
 * Stubs the DEX API: each key is "METHOD /path" and answers with a fresh Response per call.
 * Any other request throws, so a call the test did not expect can never pass silently.
 * Canned answers, not a fake of the API: these tests hand the client exact responses,
 * malformed ones included, that the shared fake (test/helpers/dex-api-mock.ts) never gives.
 */
function stubDex(routes: Record<string, Responder>) {
  const sent: SentRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const respond = routes[`${request.method} ${url.pathname}`];
    if (!respond) throw new Error(`unexpected request: ${request.method} ${request.url}`);
    sent.push({ method: request.method, url, headers: request.headers, body: await request.text() });
    return respond(init?.signal);
  });
  return { sent, spy };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function success(result: unknown, result_info?: unknown): Response {
  return json({ success: true, errors: [], messages: [], result, ...(result_info ? { result_info } : {}) });
}

function failure(status: number, errors: unknown[], headers: Record<string, string> = {}): Response {
  return json({ success: false, errors, messages: [], result: null }, status, headers);
}

function client(overrides: Partial<DexClientOptions> = {}): DexClient {
  return new DexClient({ baseUrl: BASE, accountId: ACCOUNT, token: TOKEN, now: () => NOW, ...overrides });
}

/** Runs the call and returns the DexApiError it must throw. */
async function failureOf(call: Promise<unknown>): Promise<DexApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDexApiError(error)) throw new Error(`expected a DexApiError, got ${String(error)}`);
  expect(error.message).not.toContain(TOKEN);
  return error;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createCommands", () => {
  it("posts the batch with the token and returns the created commands", async () => {
    const created = { id: "cmd-1", device_id: JANE_PCAP.device_id, status: "PENDING_EXEC", type: "pcap", args: { "time-limit-min": "2" } };
    const { sent } = stubDex({ [`POST ${COMMANDS_PATH}`]: () => success({ commands: [created] }) });

    const commands = await client().createCommands([JANE_PCAP]);

    expect(commands).toEqual([created]);
    expect(sent).toHaveLength(1);
    const [request] = sent;
    expect(request?.method).toBe("POST");
    expect(request?.url.href).toBe(`https://dex.test${COMMANDS_PATH}`);
    expect(request?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual({ commands: [JANE_PCAP] });
  });

  it("joins a base URL with a trailing slash and encodes the account id", async () => {
    const { sent } = stubDex({
      "POST /client/v4/accounts/acc%2F1%20x/dex/commands": () => success({ commands: [] }),
    });

    await client({ baseUrl: `${BASE}/`, accountId: "acc/1 x" }).createCommands([JANE_PCAP]);

    expect(sent[0]?.url.href).toBe("https://dex.test/client/v4/accounts/acc%2F1%20x/dex/commands");
  });

  const warpDiag = { type: "warp-diag", device_id: "d-1", user_email: "sam.lee@example.com" };
  it.each([
    ["more than 10 commands", Array.from({ length: 11 }, () => warpDiag), "/commands", "Too big"],
    ["an unknown type", [warpDiag, { ...warpDiag, type: "traceroute" }], "/commands/1/type", "discriminator"],
    ["pcap args on a warp-diag", [{ ...warpDiag, args: { "time-limit-min": 2 } }], "/commands/0/args", '"time-limit-min"'],
    ["an extra key", [{ ...warpDiag, priority: "high" }], "/commands/0", '"priority"'],
    ["no command at all", [], "/commands", "Too small"],
  ])("refuses %s without sending anything", async (_, commands, pointer, complaint) => {
    const { spy } = stubDex({});

    const error = await failureOf(client().createCommands(commands as CommandInput[]));

    expect(spy).not.toHaveBeenCalled();
    expect(error.kind).toBe("rejected");
    expect(error.status).toBeUndefined();
    expect(error.errors[0]?.source?.pointer).toBe(pointer);
    expect(error.errors[0]?.message).toContain(complaint);
    expect(error.message).toContain(pointer);
  });

  it("treats a success without a result as ambiguous: the commands may exist", async () => {
    stubDex({ [`POST ${COMMANDS_PATH}`]: () => json({ success: true, errors: [], messages: [], result: null }) });

    const error = await failureOf(client().createCommands([JANE_PCAP]));

    expect(error.kind).toBe("ambiguous");
  });
});

describe("listCommands", () => {
  it("sends every filter as the API names it and returns the page", async () => {
    const listed = {
      id: "cmd-1",
      completed_date: null,
      created_date: "2026-11-20T09:58:00Z",
      device_id: JANE_PCAP.device_id,
      filename: null,
      registration_id: null,
      status: "PENDING_EXEC",
      type: "pcap",
      user_email: "jane.doe@example.com",
    };
    const info = { count: 1, page: 2, per_page: 10, total_count: 11, total_pages: 2 };
    const { sent } = stubDex({ [`GET ${COMMANDS_PATH}`]: () => success({ commands: [listed] }, info) });

    const page = await client().listCommands({
      page: 2,
      per_page: 10,
      from: new Date("2026-11-20T09:00:00Z"),
      to: "2026-11-20T10:00:00.000Z",
      device_id: JANE_PCAP.device_id,
      user_email: "jane.doe@example.com",
      command_type: "pcap",
      status: "PENDING_EXEC",
    });

    expect(page).toEqual({ commands: [listed], resultInfo: info });
    const [request] = sent;
    expect(request?.method).toBe("GET");
    expect(request?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      page: "2",
      per_page: "10",
      from: "2026-11-20T09:00:00.000Z",
      to: "2026-11-20T10:00:00.000Z",
      device_id: JANE_PCAP.device_id,
      user_email: "jane.doe@example.com",
      command_type: "pcap",
      status: "PENDING_EXEC",
    });
  });

  it("asks for the first, largest page when no paging is given", async () => {
    const { sent } = stubDex({ [`GET ${COMMANDS_PATH}`]: () => success({ commands: [] }) });

    await client().listCommands({ device_id: "d-1" });

    expect(Object.fromEntries(sent[0]?.url.searchParams ?? [])).toEqual({ device_id: "d-1", page: "1", per_page: "50" });
  });

  it("reads a null command list as an empty page", async () => {
    stubDex({ [`GET ${COMMANDS_PATH}`]: () => success({ commands: null }) });

    expect(await client().listCommands()).toEqual({ commands: [] });
  });

  it.each([0, 51, 2.5])("refuses per_page %s without sending anything", async (perPage) => {
    const { spy } = stubDex({});

    const error = await failureOf(client().listCommands({ per_page: perPage }));

    expect(spy).not.toHaveBeenCalled();
    expect(error.kind).toBe("rejected");
    expect(error.message).toContain("per_page");
  });
});

describe("searchDevices", () => {
  it("asks for the largest page by default and returns the devices", async () => {
    const device = {
      deviceId: "9d2f6a7b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
      deviceName: "LOBBY-KIOSK-01",
      personEmail: "front.desk@example.com",
      platform: "linux",
      status: "connected",
      registrationId: "reg-front-desk",
      eligible: true,
      ineligibleReason: null,
      timestamp: "2026-11-20T09:59:00Z",
      version: "2025.9.558.0",
    };
    const { sent } = stubDex({ [`GET ${COMMANDS_PATH}/devices`]: () => success({ devices: [device] }) });

    const page = await client().searchDevices("kiosk");

    expect(page).toEqual({ devices: [device] });
    expect(sent[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(Object.fromEntries(sent[0]?.url.searchParams ?? [])).toEqual({ page: "1", per_page: "50", search: "kiosk" });
  });

  it("passes the page asked for", async () => {
    const { sent } = stubDex({ [`GET ${COMMANDS_PATH}/devices`]: () => success({ devices: [] }, { page: 3 }) });

    const page = await client().searchDevices("jane.doe@example.com", 3, 20);

    expect(page).toEqual({ devices: [], resultInfo: { page: 3 } });
    expect(sent[0]?.url.searchParams.get("page")).toBe("3");
    expect(sent[0]?.url.searchParams.get("per_page")).toBe("20");
    expect(sent[0]?.url.searchParams.get("search")).toBe("jane.doe@example.com");
  });
});

describe("getQuota", () => {
  const QUOTA_PATH = `GET ${COMMANDS_PATH}/quota`;

  it("reads the quota, what was used of it and when it resets, with the token", async () => {
    const result = { quota: 800, quota_usage: 12, reset_time: "2026-11-21T00:00:00Z" };
    const { sent } = stubDex({ [QUOTA_PATH]: () => success(result) });

    expect(await client().getQuota()).toEqual(result);
    expect(sent[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
  });

  it("asks the API budget first, and sends nothing while it says wait", async () => {
    const { sent } = stubDex({ [QUOTA_PATH]: () => success({ quota: 1, quota_usage: 0, reset_time: "2026-11-21T00:00:00Z" }) });
    const take = vi.fn(() => 30);

    const error = await failureOf(client({ gate: { take, lockOut: () => {} } }).getQuota());

    expect(error).toMatchObject({ kind: "rate-limited", retryAfterSeconds: 30 });
    expect(take).toHaveBeenCalledWith(1);
    expect(sent).toHaveLength(0);
  });

  it.each([
    ["a quota that is not a number", { quota: "800", quota_usage: 0, reset_time: "2026-11-21T00:00:00Z" }],
    ["a reset time that is not a date-time", { quota: 800, quota_usage: 0, reset_time: "tomorrow" }],
    ["no usage", { quota: 800, reset_time: "2026-11-21T00:00:00Z" }],
  ])("refuses %s as a response it cannot trust", async (_, result) => {
    stubDex({ [QUOTA_PATH]: () => success(result) });

    const error = await failureOf(client().getQuota());

    expect(error).toMatchObject({ kind: "ambiguous", message: "DEX API 200: the response is not the expected envelope" });
  });

  it("calls a success without a result ambiguous", async () => {
    stubDex({ [QUOTA_PATH]: () => success(null) });

    expect((await failureOf(client().getQuota())).message).toBe("DEX API quota answered without a result");
  });
});

describe("isQuotaRefusal", () => {
  const refusal = (kind: "rejected" | "rate-limited" | "ambiguous", message: string, code = 1006) =>
    new DexApiError(kind, `DEX API: ${message}`, { errors: [{ code, message }] });

  it("is a refusal whose errors speak of the quota, whatever the status", () => {
    expect(isQuotaRefusal(refusal("rejected", "Command quota exceeded"))).toBe(true);
    expect(isQuotaRefusal(refusal("rate-limited", "Daily QUOTA reached for remote captures"))).toBe(true);
  });

  it("is not an answer that may have created the commands, nor another refusal, nor the client's own", () => {
    expect(isQuotaRefusal(refusal("ambiguous", "quota service unavailable"))).toBe(false);
    expect(isQuotaRefusal(refusal("rejected", "device is offline"))).toBe(false);
    expect(isQuotaRefusal(refusal("rejected", "command quota: not a number", 0))).toBe(false);
  });
});

describe("listDevices", () => {
  it("reads a page of every device, without a search, with how many there are", async () => {
    const info = { page: 2, per_page: 50, count: 0, total_count: 60, total_pages: 2 };
    const { sent } = stubDex({ [`GET ${COMMANDS_PATH}/devices`]: () => success({ devices: [] }, info) });

    const page = await client().listDevices(2);

    expect(page).toEqual({ devices: [], resultInfo: info });
    expect(Object.fromEntries(sent[0]?.url.searchParams ?? [])).toEqual({ page: "2", per_page: "50" });
  });
});

describe("failures", () => {
  const create = () => client().createCommands([JANE_PCAP]);
  const answer = (respond: Responder) => stubDex({ [`POST ${COMMANDS_PATH}`]: respond });
  const rateLimited = [{ code: 10000, message: "Rate limited" }];

  it("reads Retry-After in seconds on a 429", async () => {
    answer(() => failure(429, rateLimited, { "retry-after": "120" }));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "rate-limited", status: 429, retryAfterSeconds: 120 });
    expect(error.message).toBe("DEX API 429: rate limited, retry after 120 s");
  });

  it("reads Retry-After as an HTTP date on a 429", async () => {
    answer(() => failure(429, rateLimited, { "retry-after": "Fri, 20 Nov 2026 10:01:30 GMT" }));

    expect(await failureOf(create())).toMatchObject({ kind: "rate-limited", retryAfterSeconds: 90 });
  });

  it.each([
    ["missing", {}],
    ["unreadable", { "retry-after": "soon" }],
  ])("assumes the five-minute lockout when Retry-After is %s", async (_, headers) => {
    answer(() => failure(429, rateLimited, headers));

    expect(await failureOf(create())).toMatchObject({ kind: "rate-limited", retryAfterSeconds: 300 });
  });

  it("calls a 500 ambiguous, keeping the API's errors", async () => {
    answer(() => failure(500, [{ code: 1001, message: "Internal error" }]));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "ambiguous", status: 500 });
    expect(error.message).toBe("DEX API 500: Internal error");
  });

  it("calls a 503 with an HTML body ambiguous", async () => {
    answer(() => new Response("<html>upstream unavailable</html>", { status: 503 }));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "ambiguous", status: 503 });
    expect(error.errors).toEqual([{ code: 503, message: expect.stringContaining("HTTP 503") }]);
  });

  it("calls a request that outlives the timeout ambiguous", async () => {
    stubDex({
      [`POST ${COMMANDS_PATH}`]: (signal) =>
        new Promise<Response>((_, reject) => {
          if (!signal) return reject(new Error("the client sent no abort signal"));
          signal.addEventListener("abort", () => reject(signal.reason));
        }),
    });

    const error = await failureOf(client({ timeoutMs: 20 }).createCommands([JANE_PCAP]));

    expect(error.kind).toBe("ambiguous");
    expect(error.status).toBeUndefined();
    expect(error.message).toBe("DEX API did not answer within 20 ms");
  });

  it("calls a network failure ambiguous and keeps its cause", async () => {
    const lost = new TypeError("Network connection lost.");
    answer(() => Promise.reject(lost));

    const error = await failureOf(create());

    expect(error.kind).toBe("ambiguous");
    expect(error.message).toBe("DEX API unreachable: Network connection lost.");
    expect(error.cause).toBe(lost);
  });

  it("carries the API's errors on a 400, pointers included", async () => {
    const errors = [
      { code: 1003, message: "device not found", source: { pointer: "/commands/0/device_id" } },
      { code: 1004, message: "registration_id is required", source: { pointer: "/commands/0/registration_id" } },
    ];
    answer(() => failure(400, errors));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "rejected", status: 400, errors });
    expect(error.message).toBe("DEX API 400: device not found");
  });

  it("calls a 403 rejected", async () => {
    answer(() => failure(403, [{ code: 10000, message: "Authentication error" }]));

    expect(await failureOf(create())).toMatchObject({ kind: "rejected", status: 403 });
  });

  it("gives a 4xx with a body that is not JSON one error naming the status", async () => {
    answer(() => new Response("Forbidden", { status: 403, statusText: "Forbidden" }));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "rejected", status: 403 });
    expect(error.errors).toEqual([{ code: 403, message: "HTTP 403 Forbidden without a Cloudflare error body" }]);
  });

  it.each([
    ["is not JSON", () => new Response("OK", { status: 200 })],
    ["is not the envelope", () => json({ ok: true })],
    ["lists commands that are not objects", () => success({ commands: ["cmd-1"] })],
    ["says success false with no errors", () => json({ success: false, errors: [], messages: [], result: null })],
  ])("calls a 2xx whose body %s ambiguous", async (_, respond) => {
    answer(respond);

    expect(await failureOf(create())).toMatchObject({ kind: "ambiguous", status: 200 });
  });

  it("calls a 2xx that says success false with errors rejected", async () => {
    answer(() => failure(200, [{ code: 1002, message: "quota exceeded" }]));

    const error = await failureOf(create());

    expect(error).toMatchObject({ kind: "rejected", status: 200 });
    expect(error.message).toBe("DEX API 200: quota exceeded");
  });

  it("cuts the token out of an API error that echoes it", async () => {
    answer(() => failure(401, [{ code: 10001, message: `token ${TOKEN} is not valid` }]));

    const error = await failureOf(create());

    expect(error.message).toBe("DEX API 401: token [redacted] is not valid");
    expect(JSON.stringify(error.errors)).not.toContain(TOKEN);
  });
});

describe("DexApiError.withoutSecret", () => {
  it("leaves messages whole when the secret is too short to be an API token", () => {
    const error = new DexApiError("ambiguous", "DEX API unreachable: fetch failed");

    expect(error.withoutSecret("t").message).toBe("DEX API unreachable: fetch failed");
    expect(error.withoutSecret("fetch failed").message).toBe("DEX API unreachable: [redacted]");
  });
});

describe("isDexApiError", () => {
  it("tells a DexApiError from any other thrown value", () => {
    expect(isDexApiError(new DexApiError("rejected", "DEX API 400: bad"))).toBe(true);
    expect(isDexApiError(new Error("DEX API 400: bad"))).toBe(false);
    expect(isDexApiError({ kind: "rejected" })).toBe(false);
  });
});
