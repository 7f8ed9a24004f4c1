import { vi } from "vitest";
import { createStandIn } from "../../dev/dex-stand-in/app";
import { CommandStore, type ExistingCommand, type ListedCommandView } from "../../dev/dex-stand-in/commands";
import type { AccountDevice } from "../../dev/dex-stand-in/devices";
import { CommandQuota, type QuotaChange } from "../../dev/dex-stand-in/quota";
import type { CommandStatus, Device } from "../../src/model/dex-api";

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

/** The calls the relay makes to the DEX API. */
type Route = "create" | "list" | "devices" | "quota" | "download";

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
  headers: Headers;
  body?: unknown;
  /** The status the call was answered with; unset for a call that got no answer (a timeout, a lost connection). */
  status?: number;
}

/** The commands API of the test account, under the test configuration's base (vitest.config.ts). */
const COMMANDS_PATH = "/client/v4/accounts/0123456789abcdef0123456789abcdef/dex/commands";
const DOWNLOAD_PATH = new RegExp(`^${COMMANDS_PATH}/[^/]+/downloads/[^/]+$`);

/** Which DEX call a request is; anything else is a request the test did not expect. */
function route(method: string, url: URL): Route {
  if (url.origin === DEX_TEST_ORIGIN) {
    if (method === "POST" && url.pathname === COMMANDS_PATH) return "create";
    if (method === "GET" && url.pathname === COMMANDS_PATH) return "list";
    if (method === "GET" && url.pathname === `${COMMANDS_PATH}/devices`) return "devices";
    if (method === "GET" && url.pathname === `${COMMANDS_PATH}/quota`) return "quota";
    if (method === "GET" && DOWNLOAD_PATH.test(url.pathname)) return "download";
  }
  throw new Error(`unexpected outbound request: ${method} ${url.origin}${url.pathname}`);
}

/** A test device as the stand-in keeps it. */
function accountDevice(device: Device, now: Date): AccountDevice {
  return {
    deviceId: device.deviceId,
    deviceName: device.deviceName ?? "",
    personEmail: device.personEmail ?? "",
    platform: device.platform ?? "",
    status: device.status ?? "",
    registrationId: device.registrationId ?? "",
    eligible: device.eligible ?? false,
    ineligibleReason: device.ineligibleReason ?? null,
    timestamp: device.timestamp ?? now.toISOString(),
    version: device.version ?? "",
  };
}

/**
 * The DEX API behind a `fetch` spy, answered by the local stand-in (dev/dex-stand-in), the
 * same fake `npm start` runs: its validation, device rules, filters and paging. The stand-in
 * knows `devices` and every device enrolled since, and its commands move on only when a test
 * settles them (`settle`), whatever the faked clock says. What only a test can do stays
 * here: recording calls, scripting failures per route, answering `others`, and throwing on
 * any request the test did not expect, so an unexpected outbound call fails the test.
 */
export function mockDexApi(
  devices: Device[] = [JANE, SAM, OLD_CLIENT],
  /** Other services the test expects calls to, by `METHOD origin/path`; each is handed the call. */
  others: Record<string, (call: OtherCall) => Response | Promise<Response>> = {},
  /**
   * `commandId`: how the API names the commands it creates (UUIDs unless a test says otherwise);
   * `fleet`: generated devices the stand-in enrols besides `devices` (dev/dex-stand-in/fleet.ts).
   */
  options: { commandId?: () => string; fleet?: number } = {},
) {
  const otherCalls: OtherCall[] = [];
  const calls: Call[] = [];
  const faults: Record<Route, Array<Fault | { landThenFail: Fault }>> = { create: [], list: [], devices: [], quota: [], download: [] };
  const store = new CommandStore({ progress: "manual", ...(options.commandId ? { newId: options.commandId } : {}) });
  const quota = new CommandQuota();
  const standIn = createStandIn({
    store,
    quota,
    devices: (now) => [...devices, ...enrolled].map((device) => accountDevice(device, now)),
    fleet: options.fleet,
  });

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
      const call = { method: request.method, url: request.url, headers: request.headers, text: async () => body, json: async () => JSON.parse(body) };
      otherCalls.push(call);
      return other(call);
    }
    const kind = route(request.method, url);
    const body = request.method === "POST" ? await request.clone().json() : undefined;
    const call: Call = { route: kind, method: request.method, url, headers: request.headers, body };
    calls.push(call);
    const fault = faults[kind].shift();
    let response: Response;
    if (fault && !(typeof fault === "object" && "landThenFail" in fault)) response = await answer(fault, request.signal);
    else {
      response = await standIn.fetch(request);
      if (fault) response = await answer(fault.landThenFail, request.signal);
    }
    call.status = response.status;
    return response;
  });

  return {
    spy,
    calls,
    /** Requests made to the `others` services. */
    otherCalls,
    /** Commands the API holds, oldest first, each as `GET /dex/commands` would list it now. */
    get commands(): readonly Readonly<ListedCommandView>[] {
      const now = new Date();
      return store.inOrder().map((command) => store.viewAt(command, now));
    },
    callsTo: (kind: Route) => calls.filter((c) => c.route === kind),
    /** Calls to the devices endpoint that searched, and those that read the whole list. */
    deviceSearches: () => calls.filter((c) => c.route === "devices" && c.url.searchParams.has("search")),
    deviceListReads: () => calls.filter((c) => c.route === "devices" && !c.url.searchParams.has("search")),
    /** What DEX reports for command `id` from now on: a status, and the file a finished capture left. */
    settle(id: string, status: CommandStatus, filename: string | null = null) {
      store.settle(id, status, new Date(), filename);
    },
    /** A command the API holds that the relay did not create (another client's, or one that landed before a restart). */
    createdElsewhere(command: ExistingCommand) {
      store.addExisting(command);
    },
    /**
     * The account's command quota from now on, as `POST /__quota` sets it: the commands it
     * allows, those already used, when it resets, and whether `quota` carries the total.
     */
    setQuota(settings: QuotaChange) {
      quota.set(settings, new Date());
    },
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
  return () =>
    Response.json(
      { success: false, errors: [{ code: 1000 + status, message, ...(pointer ? { source: { pointer } } : {}) }], messages: [], result: null },
      { status, headers },
    );
}
