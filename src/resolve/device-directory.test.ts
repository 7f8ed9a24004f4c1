import { env } from "cloudflare:workers";
import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { DexApiError } from "../model/dex-api-error";
import type { Device } from "../model/dex-api";
import { createDeviceDirectory, DEVICE_PAGE_SIZE, type DeviceSearch } from "./device-directory";

const device = (i: number): Device => ({ deviceId: `d-${i}`, deviceName: `HOST-${i}`, personEmail: `u${i}@example.com`, eligible: true });

/** Answers searches from `all`, a page at a time, and counts the calls. */
function api(all: Device[], fail?: DexApiError): DeviceSearch & { calls: Array<[string, number]> } {
  const calls: Array<[string, number]> = [];
  return {
    calls,
    async searchDevices(search, page = 1, perPage = DEVICE_PAGE_SIZE) {
      calls.push([search, page]);
      if (fail) throw fail;
      return {
        devices: all.slice((page - 1) * perPage, page * perPage),
        resultInfo: { page, per_page: perPage, total_pages: Math.ceil(all.length / perPage) },
      };
    },
  };
}

afterEach(() => reset());

describe("device directory", () => {
  it("pages through a result larger than one page", async () => {
    const all = Array.from({ length: 120 }, (_, i) => device(i));
    const search = api(all);
    const found = await createDeviceDirectory(search, env.RELAY_KV, "acct").search("example.com");
    expect(found).toHaveLength(120);
    expect(search.calls).toEqual([["example.com", 1], ["example.com", 2], ["example.com", 3]]);
  });

  it("looks a term up once per batch, however often it is asked", async () => {
    const search = api([device(1)]);
    const directory = createDeviceDirectory(search, env.RELAY_KV, "acct");
    await Promise.all([directory.search("u1@example.com"), directory.search("U1@example.com "), directory.search("u1@example.com")]);
    expect(search.calls).toHaveLength(1);
    expect(directory.lookups).toBe(1);
  });

  it("reuses a lookup across batches through KV", async () => {
    const search = api([device(1)]);
    await createDeviceDirectory(search, env.RELAY_KV, "acct").search("u1@example.com");
    const again = await createDeviceDirectory(search, env.RELAY_KV, "acct").search("u1@example.com");
    expect(again).toEqual([device(1)]);
    expect(search.calls).toHaveLength(1);
  });

  it("keeps accounts apart in the cache", async () => {
    const search = api([device(1)]);
    await createDeviceDirectory(search, env.RELAY_KV, "acct-a").search("u1@example.com");
    await createDeviceDirectory(search, env.RELAY_KV, "acct-b").search("u1@example.com");
    expect(search.calls).toHaveLength(2);
  });

  it("writes nothing in a dry run", async () => {
    const search = api([device(1)]);
    await createDeviceDirectory(search, env.RELAY_KV, "acct", { readOnly: true }).search("u1@example.com");
    expect((await env.RELAY_KV.list()).keys).toEqual([]);
  });

  it("does not remember a failed lookup", async () => {
    const failing = api([], new DexApiError("ambiguous", "DEX API 503: unavailable", { status: 503 }));
    const directory = createDeviceDirectory(failing, env.RELAY_KV, "acct");
    await expect(directory.search("u1@example.com")).rejects.toThrow("503");
    await expect(directory.search("u1@example.com")).rejects.toThrow("503");
    expect(failing.calls).toHaveLength(2);
  });
});
