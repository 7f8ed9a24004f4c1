import { env } from "cloudflare:workers";
import { reset } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { paginate } from "../../dev/dex-stand-in/list-query";
import { DexApiError } from "../model/dex-api-error";
import type { Device } from "../model/dex-api";
import { DEVICE_CACHE_TTL_SECONDS } from "./device-cache";
import { createDeviceDirectory, type DirectoryOptions } from "./device-directory";
import { DEVICE_PAGE_SIZE, type DeviceLookupApi } from "./device-list";

const device = (i: number): Device => ({
  deviceId: `d-${i}`,
  deviceName: `HOST-${i}`,
  personEmail: `u${i}@example.com`,
  registrationId: `r-${i}`,
  eligible: true,
});
const fleet = (n: number) => Array.from({ length: n }, (_, i) => device(i));
const emails = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `u${from + i}@example.com`);

/**
 * The devices endpoint over `all`, paged and searched as the API does, counting calls: a
 * search is `search:<term>:<page>`, a list read `list:<page>`. `refuse` turns a call away as
 * the API budget would.
 */
function api(all: () => Device[], refuse: (call: string) => DexApiError | undefined = () => undefined) {
  const calls: string[] = [];
  const answer = (call: string, devices: Device[], page: number, perPage: number) => {
    const error = refuse(call);
    if (error) return Promise.reject(error);
    calls.push(call);
    const { items, resultInfo } = paginate(devices, { page, perPage });
    return Promise.resolve({ devices: items, resultInfo });
  };
  const lookupApi: DeviceLookupApi = {
    searchDevices: (search, page = 1, perPage = DEVICE_PAGE_SIZE) => {
      const needle = search.toLowerCase();
      const found = all().filter((d) => d.deviceName!.toLowerCase().includes(needle) || d.personEmail!.toLowerCase().includes(needle));
      return answer(`search:${search}:${page}`, found, page, perPage);
    },
    listDevices: (page = 1, perPage = DEVICE_PAGE_SIZE) => answer(`list:${page}`, all(), page, perPage),
  };
  return Object.assign(lookupApi, {
    calls,
    searches: () => calls.filter((c) => c.startsWith("search:")),
    lists: () => calls.filter((c) => c.startsWith("list:")),
  });
}

const heldFor = (seconds: number) => new DexApiError("rate-limited", `DEX API calls are held for ${seconds} s`, { retryAfterSeconds: seconds });
/** A budget that pays for `n` calls, then refuses. */
function budgetOf(n: number) {
  let left = n;
  return () => (left-- > 0 ? undefined : heldFor(20));
}

let clock = Date.parse("2026-11-25T09:00:00Z");
const directory = (lookupApi: DeviceLookupApi, options: DirectoryOptions = {}, account = "acct") =>
  createDeviceDirectory(lookupApi, env.RELAY_KV, account, { now: () => clock, ...options });

beforeEach(() => {
  clock = Date.parse("2026-11-25T09:00:00Z");
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => reset());

describe("device directory: one term", () => {
  it("searches, paging through a result larger than one page", async () => {
    const all = fleet(120);
    const search = api(() => all);
    const round = await directory(search).lookUp(["example.com"]);
    expect(round.found.get("example.com")).toHaveLength(120);
    expect(search.calls).toEqual(["search:example.com:1", "search:example.com:2", "search:example.com:3"]);
    expect(round.step).toBe("search");
  });

  it("looks a term up once per batch, however often and however it is written", async () => {
    const search = api(() => [device(1)]);
    const dir = directory(search);
    await dir.lookUp(["u1@example.com", "U1@example.com ", "u1@example.com"]);
    await dir.lookUp(["u1@example.com"]);
    expect(search.calls).toEqual(["search:u1@example.com:1"]);
  });

  it("reuses a search across batches through KV, for a minute, apart per account", async () => {
    const search = api(() => [device(1)]);
    await directory(search).lookUp(["u1@example.com"]);
    const again = await directory(search).lookUp(["u1@example.com"]);
    expect(again.found.get("u1@example.com")).toEqual([device(1)]);
    expect(search.calls).toHaveLength(1);
    await directory(search, {}, "other-account").lookUp(["u1@example.com"]);
    expect(search.calls).toHaveLength(2);
    const entry = (await env.RELAY_KV.list()).keys.find((key) => key.name.startsWith("devices:"));
    expect(entry?.expiration).toBeLessThanOrEqual(Date.now() / 1000 + DEVICE_CACHE_TTL_SECONDS + 1);
  });

  it("writes nothing in a dry run", async () => {
    await directory(
      api(() => fleet(10)),
      { readOnly: true },
    ).lookUp(emails(0, 5));
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });

  it("does not remember a failed lookup", async () => {
    const failing = api(
      () => [],
      () => new DexApiError("ambiguous", "DEX API 503: unavailable", { status: 503 }),
    );
    const first = await directory(failing).lookUp(["u1@example.com"]);
    expect(first.failed.get("u1@example.com")).toMatchObject({ message: expect.stringContaining("503") });
    const working = api(() => [device(1)]);
    expect((await directory(working).lookUp(["u1@example.com"])).found.get("u1@example.com")).toEqual([device(1)]);
  });
});

describe("device directory: choosing the read", () => {
  it("reads the list when the fleet has fewer pages than there are terms, and answers every term as searches would", async () => {
    const all = fleet(120); // 3 pages
    const lister = api(() => all);
    const round = await directory(lister).lookUp([...emails(0, 25), "host-1"]);
    expect(lister.calls).toEqual(["list:1", "list:2", "list:3"]);
    expect(round.step).toBe("list");

    const searcher = api(() => all);
    const searched = await directory(searcher, { strategy: "search" }, "acct-searched").lookUp([...emails(0, 25), "host-1"]);
    expect(searcher.searches()).toHaveLength(26); // host-1 matches 31 devices: one page
    expect([...round.found]).toEqual([...searched.found]);
  });

  it("searches when that is cheaper, after one page of the list has told the fleet's size, and remembers the size", async () => {
    const all = fleet(1_000); // 20 pages
    const lookupApi = api(() => all);
    const round = await directory(lookupApi).lookUp(emails(0, 5));
    expect(lookupApi.calls).toEqual(["list:1", ...emails(0, 5).map((e) => `search:${e}:1`)]);
    expect(round.step).toBe("search");
    expect(round.found.get("u3@example.com")).toEqual([device(3)]);

    lookupApi.calls.length = 0;
    await directory(lookupApi).lookUp(emails(5, 10));
    expect(lookupApi.lists()).toEqual([]);
    expect(lookupApi.searches()).toHaveLength(5);
  });

  it("searches a single term without asking the fleet's size", async () => {
    const lookupApi = api(() => fleet(10));
    await directory(lookupApi).lookUp(["u1@example.com"]);
    expect(lookupApi.calls).toEqual(["search:u1@example.com:1"]);
  });

  it("keeps the list a minute for every batch, then reads it again without asking its size first", async () => {
    const all = fleet(120);
    const lookupApi = api(() => all);
    await directory(lookupApi).lookUp(emails(0, 10));
    await directory(lookupApi).lookUp(emails(10, 20));
    expect(lookupApi.calls).toEqual(["list:1", "list:2", "list:3"]);

    // KV's own expiry is the runtime's: the entry is dropped as it would be a minute on.
    await env.RELAY_KV.delete("device-list:acct");
    await directory(lookupApi).lookUp(emails(20, 30));
    expect(lookupApi.calls).toEqual(["list:1", "list:2", "list:3", "list:1", "list:2", "list:3"]);
  });

  it("with DEVICE_LOOKUP = search, never reads the list nor keeps one", async () => {
    const lookupApi = api(() => fleet(120));
    await directory(lookupApi, { strategy: "search" }).lookUp(emails(0, 25));
    expect(lookupApi.lists()).toEqual([]);
    expect((await env.RELAY_KV.list()).keys.some((key) => !key.name.startsWith("devices:"))).toBe(false);
  });
});

describe("device directory: the API budget", () => {
  it("searches the most urgent terms first and leaves the rest waiting, with the budget's wait", async () => {
    const lookupApi = api(() => fleet(1_000), budgetOf(1 + 3));
    const round = await directory(lookupApi).lookUp(emails(0, 8));
    expect(round.found.size).toBe(3);
    expect([...round.found.keys()].every((term) => emails(0, 8).slice(0, 6).includes(term))).toBe(true);
    expect(round.waiting).toEqual({ terms: new Set(emails(0, 8).filter((t) => !round.found.has(t))), seconds: 20, calls: 5 });
  });

  it("keeps a list read the budget stopped part-way, and finishes it in the next batch without reading a page twice", async () => {
    const all = fleet(500); // 10 pages
    const first = api(() => all, budgetOf(4));
    const round = await directory(first).lookUp(emails(0, 40));
    expect(round.found.size).toBe(0);
    expect(round.waiting).toMatchObject({ seconds: 20, calls: 6 });
    expect(round.waiting?.terms.size).toBe(40);

    clock += 20_000;
    const second = api(() => all);
    const next = await directory(second).lookUp(emails(0, 40));
    expect([...first.calls, ...second.calls].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `list:${i + 1}`).sort());
    expect(next.found.get("u39@example.com")).toEqual([device(39)]);
    expect(next.waiting).toBeUndefined();
  });

  it("begins a list read again when the part kept is too old to finish", async () => {
    const all = fleet(500);
    await directory(api(() => all, budgetOf(4))).lookUp(emails(0, 40));
    clock += 121_000;
    const later = api(() => all);
    await directory(later).lookUp(emails(0, 40));
    expect(later.lists()).toHaveLength(10);
  });
});

describe("device directory: a list that moves under the read", () => {
  it("falls back to searches when the count changes between pages, and searches for a while after", async () => {
    let all = fleet(120);
    const lookupApi = api(() => all);
    const moving: DeviceLookupApi = {
      ...lookupApi,
      async listDevices(page, perPage) {
        const result = await lookupApi.listDevices(page, perPage);
        if (page === 1) all = [...all, device(999)]; // a device connects during the read
        return result;
      },
    };
    const round = await directory(moving).lookUp(emails(0, 10));
    expect(round.step).toBe("search");
    expect(lookupApi.lists()).toEqual(["list:1", "list:2", "list:3"]);
    expect(round.found.get("u5@example.com")).toEqual([device(5)]);
    expect(lookupApi.searches()).toHaveLength(10);
    expect(await env.RELAY_KV.get("device-list:acct")).toBeNull();

    lookupApi.calls.length = 0;
    await directory(moving).lookUp(emails(10, 20));
    expect(lookupApi.lists()).toEqual([]);
  });

  it("does not trust a read whose pages hold a device twice", async () => {
    const all = fleet(100);
    const lookupApi = api(() => all);
    const shifted: DeviceLookupApi = {
      ...lookupApi,
      async listDevices(page, perPage) {
        const result = await lookupApi.listDevices(page, perPage);
        // A device moved from the second page to the first: the first is read before, the second after.
        return page === 2 ? { ...result, devices: [all[49]!, ...result.devices.slice(1)] } : result;
      },
    };
    await directory(shifted).lookUp(emails(0, 10));
    expect(lookupApi.searches()).toHaveLength(10);
  });
});
