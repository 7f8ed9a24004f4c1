import { vi } from "vitest";
import type { Device, ListedCommand } from "../../src/model/dex-api";

/** The DEX base the test configuration points at (vitest.config.ts). */
export const DEX_TEST_ORIGIN = "https://dex.test";

export const JANE: Device = {
  deviceId: "6f1c2d4e-0001-4a7b-9c1d-000000000001",
  deviceName: "JANE-MBP",
  personEmail: "jane.doe@example.com",
  platform: "mac",
  status: "connected",
  registrationId: "9a8b7c6d-0001-4e5f-8a9b-000000000001",
  eligible: true,
  timestamp: "2026-11-25T11:59:00Z",
  version: "2025.9.558.0",
};
export const SAM: Device = {
  ...JANE,
  deviceId: "6f1c2d4e-0002-4a7b-9c1d-000000000002",
  deviceName: "SAM-XPS13",
  personEmail: "sam.lee@example.com",
  platform: "windows",
  registrationId: "9a8b7c6d-0002-4e5f-8a9b-000000000002",
};
export const OLD_CLIENT: Device = {
  ...JANE,
  deviceId: "6f1c2d4e-0003-4a7b-9c1d-000000000003",
  deviceName: "OLD-LAPTOP",
  personEmail: "pat.kim@example.com",
  registrationId: "9a8b7c6d-0003-4e5f-8a9b-000000000003",
  eligible: false,
  ineligibleReason: "WARP client version 2024.6.415.0 does not support remote captures",
};

/**
 * Devices connected besides those a mock is built with, for tests that make up one device
 * per alert: the relay looks every target up, so a device the API does not list gets no
 * command. Emptied after each test (test/helpers/relay.ts, isolateEachTest).
 */
export const enrolled: Device[] = [];

/** A connected, eligible device for `user_email` with id `device_id`, listed by every mock from now on. */
export function enrol(device_id: string, user_email: string): void {
  enrolled.push({ ...JANE, deviceId: device_id, deviceName: device_id.toUpperCase(), personEmail: user_email, registrationId: `reg-${device_id}` });
}

type Route = "create" | "list" | "devices";

/** A request to one of the `others` services, its body already read. */
export interface OtherCall {
  method: string;
  url: string;
  headers: Headers;
  text(): Promise<string>;
  json<T = any>(): Promise<T>;
}
/** A failure to answer with: a factory, because a Response must be built inside the request that reads it. */
type Fault = (() => Response) | "timeout" | "network";

interface Call {
  route: Route;
  method: string;
  url: URL;
  body?: unknown;
}

/**
 * A stateful stand-in for the DEX API behind a `fetch` spy. It answers the three calls the
 * relay makes, lets a test script failures per route, and throws on any request it was
 * not built for, so an unexpected outbound call fails the test.
 */
export function mockDexApi(
  devices: Device[] = [JANE, SAM, OLD_CLIENT],
  /** Other services the test expects calls to, by `METHOD origin/path`. */
  others: Record<string, () => Response | Promise<Response>> = {},
) {
  const otherCalls: OtherCall[] = [];
  const calls: Call[] = [];
  const commands: (ListedCommand & { args?: unknown })[] = [];
  const faults: Record<Route, Array<Fault | { landThenFail: Fault }>> = { create: [], list: [], devices: [] };

  const envelope = (result: unknown, info?: object) =>
    Response.json({ success: true, errors: [], messages: [], result, ...(info ? { result_info: info } : {}) });

  function route(method: string, url: URL): Route {
    const base = "/client/v4/accounts/0123456789abcdef0123456789abcdef/dex/commands";
    if (url.origin === DEX_TEST_ORIGIN && method === "POST" && url.pathname === base) return "create";
    if (url.origin === DEX_TEST_ORIGIN && method === "GET" && url.pathname === base) return "list";
    if (url.origin === DEX_TEST_ORIGIN && method === "GET" && url.pathname === `${base}/devices`) return "devices";
    throw new Error(`unexpected outbound request: ${method} ${url.origin}${url.pathname}`);
  }

  function create(body: { commands: Array<Record<string, string>> }): Response {
    const created = body.commands.map((c) => ({
      id: crypto.randomUUID(),
      device_id: c.device_id,
      registration_id: c.registration_id,
      user_email: c.user_email,
      type: c.type,
      args: c.args,
      status: "PENDING_EXEC" as const,
      created_date: new Date().toISOString(),
    }));
    commands.push(...created);
    return envelope({ commands: created.map(({ id, device_id, registration_id, type, status, args }) => ({ id, device_id, registration_id, type, status, args })) });
  }

  function list(url: URL): Response {
    const from = Date.parse(url.searchParams.get("from") ?? "1970-01-01T00:00:00Z");
    const page = Number(url.searchParams.get("page") ?? 1);
    const perPage = Number(url.searchParams.get("per_page") ?? 50);
    const matching = commands.filter(
      (c) =>
        Date.parse(c.created_date ?? "") >= from &&
        (!url.searchParams.get("device_id") || c.device_id === url.searchParams.get("device_id")),
    );
    return envelope(
      { commands: matching.slice((page - 1) * perPage, page * perPage).map(({ args: _args, ...c }) => c) },
      { page, per_page: perPage, count: matching.length, total_count: matching.length, total_pages: Math.max(1, Math.ceil(matching.length / perPage)) },
    );
  }

  function searchDevices(url: URL): Response {
    const term = (url.searchParams.get("search") ?? "").toLowerCase();
    const found = [...devices, ...enrolled].filter(
      (d) => d.deviceName?.toLowerCase().includes(term) || d.personEmail?.toLowerCase().includes(term),
    );
    return envelope({ devices: found }, { page: 1, per_page: 50, count: found.length, total_pages: 1 });
  }

  async function answer(fault: Fault, signal: AbortSignal | null | undefined): Promise<Response> {
    if (fault === "network") throw new TypeError("Network connection lost.");
    if (fault === "timeout") {
      return new Promise((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason));
      });
    }
    return fault();
  }

  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const other = others[`${request.method} ${url.origin}${url.pathname}`];
    if (other) {
      // Read here, in the context that made the request: a test cannot read a body a Durable Object made.
      const body = await request.text();
      otherCalls.push({ method: request.method, url: request.url, headers: request.headers, text: async () => body, json: async () => JSON.parse(body) });
      return other();
    }
    const kind = route(request.method, url);
    const body = request.method === "POST" ? await request.json() : undefined;
    calls.push({ route: kind, method: request.method, url, body });
    const fault = faults[kind].shift();
    if (fault && !(typeof fault === "object" && "landThenFail" in fault)) return answer(fault, request.signal);
    const response =
      kind === "create" ? create(body as { commands: Array<Record<string, string>> }) : kind === "list" ? list(url) : searchDevices(url);
    return fault ? answer(fault.landThenFail, request.signal) : response;
  });

  return {
    spy,
    calls,
    /** Requests made to the `others` services. */
    otherCalls,
    /** Commands the API holds, as `GET /dex/commands` would list them. */
    commands,
    callsTo: (kind: Route) => calls.filter((c) => c.route === kind),
    /** The next call to `kind` fails with this answer instead of succeeding. */
    failNext(kind: Route, ...answers: Fault[]) {
      faults[kind].push(...answers);
    },
    /** The next create lands (the commands exist) but the caller sees this failure. */
    landThenFail(answer: Fault) {
      faults.create.push({ landThenFail: answer });
    },
  };
}

export function apiError(status: number, message: string, pointer?: string, headers?: HeadersInit): () => Response {
  return () => Response.json(
    { success: false, errors: [{ code: 1000 + status, message, ...(pointer ? { source: { pointer } } : {}) }], messages: [], result: null },
    { status, headers },
  );
}
