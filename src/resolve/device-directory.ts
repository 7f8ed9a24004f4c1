import { Device, type ResultInfo } from "../model/dex-api";
import { devicesKey } from "../model/kv-keys";
import { versionedReader, versionOf } from "../model/versioned";
import * as z from "../model/zod";

/** How long a device lookup is reused across consumer batches. KV's shortest TTL. */
export const DEVICE_CACHE_TTL_SECONDS = 60;
/** The API's largest page. */
export const DEVICE_PAGE_SIZE = 50;
/** A search broader than this many pages names no single person or host: stop there. */
export const MAX_DEVICE_PAGES = 5;
/**
 * The version of a cached search, kept in the entry's KV metadata: the value stays the bare
 * list of devices release 0.1.0 cached (version 1), which it still reads after a rollback.
 */
export const DEVICE_CACHE_VERSION = 2;
const readCachedDevices = versionedReader("device cache", { 1: z.array(Device), [DEVICE_CACHE_VERSION]: z.array(Device) });

export interface DeviceSearch {
  searchDevices(search: string, page?: number, perPage?: number): Promise<{ devices: Device[]; resultInfo?: ResultInfo | null }>;
}

/** Looks devices up by email or host name, as the DEX devices endpoint's `search` does. */
export interface DeviceDirectory {
  search(term: string): Promise<Device[]>;
  /** How many calls to the DEX API this directory has made. */
  readonly lookups: number;
}

/**
 * A device directory for one consumer batch. The same term is looked up once per batch
 * (in memory) and once per minute across batches (in KV), so an alert storm about one
 * user costs one lookup, not one per alert. Results larger than one page are paged through.
 */
export function createDeviceDirectory(
  api: DeviceSearch,
  kv: KVNamespace,
  accountId: string,
  options: { readOnly?: boolean } = {},
): DeviceDirectory {
  const inFlight = new Map<string, Promise<Device[]>>();
  let lookups = 0;

  async function fetchAllPages(term: string): Promise<Device[]> {
    const devices: Device[] = [];
    for (let page = 1; page <= MAX_DEVICE_PAGES; page++) {
      lookups++;
      const result = await api.searchDevices(term, page, DEVICE_PAGE_SIZE);
      devices.push(...result.devices);
      const totalPages = result.resultInfo?.total_pages ?? 1;
      if (page >= totalPages || result.devices.length < DEVICE_PAGE_SIZE) break;
    }
    return devices;
  }

  async function lookUp(term: string): Promise<Device[]> {
    const key = await devicesKey(accountId, term);
    const { value, metadata } = await kv.getWithMetadata<unknown>(key, "json");
    // An entry this release cannot read (a newer release's) is only a cache: look the term up again.
    const cached = value === null ? undefined : readCachedDevices(value, versionOf(metadata));
    if (cached?.success) return cached.data;
    const devices = await fetchAllPages(term);
    // A dry run records nothing, not even a cache entry.
    if (!options.readOnly) {
      await kv.put(key, JSON.stringify(devices), { expirationTtl: DEVICE_CACHE_TTL_SECONDS, metadata: { version: DEVICE_CACHE_VERSION } });
    }
    return devices;
  }

  return {
    search(term) {
      const normalized = term.trim().toLowerCase();
      let pending = inFlight.get(normalized);
      if (!pending) {
        pending = lookUp(normalized);
        // A failed lookup must not be remembered: the next alert may try again.
        pending.catch(() => inFlight.delete(normalized));
        inFlight.set(normalized, pending);
      }
      return pending;
    },
    get lookups() {
      return lookups;
    },
  };
}
