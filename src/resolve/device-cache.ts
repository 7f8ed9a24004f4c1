import type { Device } from "../model/dex-api";
import { DEVICE_LIST_PREFIX, deviceListKey, DEVICES_PREFIX, devicesKey, FLEET_PREFIX, fleetKey } from "../model/kv-keys";
import { logProblem } from "../record/log";
import { pagesLeft, type ListRead } from "./device-list";

/** How long a lookup (one search, or the whole list) is reused across consumer batches. KV's shortest TTL. */
export const DEVICE_CACHE_TTL_SECONDS = 60;
/** A list read left part-way is continued for this long after its first page, then begun again. */
export const LIST_READ_HORIZON_MS = 120_000;
/** What is known of the fleet's size is kept this long: it prices the next lookups. */
export const FLEET_TTL_SECONDS = 3600;
/** After a list read the list moved under, device lookups search term by term for this long. */
export const UNSTEADY_LIST_MS = 10 * 60_000;
/** KV takes values of up to 25 MiB; a list larger than this is read but not kept. */
export const MAX_CACHED_LIST_BYTES = 20 * 1024 * 1024;
/** Keys per bulk read: KV's maximum. */
const BULK_READ_KEYS = 100;

/** The version of the list and fleet entries this release writes; others are read as missing. */
const ENTRY_VERSION = 1;

/** What the relay knows of an account's fleet. */
export interface Fleet {
  total_pages: number;
  /** Until then (ms) a list read is not trusted: the last one moved under the reader. */
  unsteady_until?: number;
}

/**
 * The device lookups of one account kept in KV: each search for a minute, the whole list
 * (or the part read so far) for a minute, and the fleet's size for an hour. KV failing costs
 * lookups, nothing else: a read that fails is a miss, and a write that KV refuses (its limit
 * is one write a second per key) is passed over; both are logged.
 */
export class DeviceCache {
  constructor(
    private readonly kv: KVNamespace,
    private readonly accountId: string,
    /** A dry run reads the cache and writes nothing. */
    private readonly readOnly: boolean,
  ) {}

  /** The cached searches among `terms`, read a hundred keys at a time. */
  async searches(terms: readonly string[]): Promise<Map<string, Device[]>> {
    const found = new Map<string, Device[]>();
    for (let start = 0; start < terms.length; start += BULK_READ_KEYS) {
      const chunk = terms.slice(start, start + BULK_READ_KEYS);
      const keys = await Promise.all(chunk.map((term) => devicesKey(this.accountId, term)));
      const values = await this.#get(() => this.kv.get<Device[]>(keys, "json"), DEVICES_PREFIX);
      chunk.forEach((term, i) => {
        const devices = values?.get(keys[i]!);
        if (Array.isArray(devices)) found.set(term, devices);
      });
    }
    return found;
  }

  async saveSearch(term: string, devices: readonly Device[]): Promise<void> {
    await this.#put(await devicesKey(this.accountId, term), JSON.stringify(devices), DEVICE_CACHE_TTL_SECONDS);
  }

  /** The list read kept for the account: complete, or part-way and young enough to continue. */
  async list(now: number): Promise<ListRead | undefined> {
    const entry = await this.#get(() => this.kv.get<{ version?: unknown } & ListRead>(deviceListKey(this.accountId), "json"), DEVICE_LIST_PREFIX);
    if (entry?.version !== ENTRY_VERSION || typeof entry.pages !== "object") return undefined;
    if (pagesLeft(entry) > 0 && now - entry.started_at > LIST_READ_HORIZON_MS) return undefined;
    const { version: _, ...read } = entry;
    return read;
  }

  /** Keeps a list read: a minute when complete, else until it is too old to continue. */
  async saveList(read: ListRead): Promise<void> {
    const text = JSON.stringify({ version: ENTRY_VERSION, ...read });
    if (text.length > MAX_CACHED_LIST_BYTES) {
      logProblem("device-list-not-cached", { devices: read.total_count, bytes: text.length });
      return;
    }
    await this.#put(deviceListKey(this.accountId), text, pagesLeft(read) > 0 ? LIST_READ_HORIZON_MS / 1000 : DEVICE_CACHE_TTL_SECONDS);
  }

  async fleet(): Promise<Fleet | undefined> {
    const entry = await this.#get(() => this.kv.get<{ version?: unknown } & Fleet>(fleetKey(this.accountId), "json"), FLEET_PREFIX);
    if (entry?.version !== ENTRY_VERSION || typeof entry.total_pages !== "number") return undefined;
    return { total_pages: entry.total_pages, ...(entry.unsteady_until ? { unsteady_until: entry.unsteady_until } : {}) };
  }

  async saveFleet(fleet: Fleet): Promise<void> {
    await this.#put(fleetKey(this.accountId), JSON.stringify({ version: ENTRY_VERSION, ...fleet }), FLEET_TTL_SECONDS);
  }

  async #get<T>(read: () => Promise<T>, prefix: string): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      logProblem("device-cache-read-failed", { prefix, error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  async #put(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (this.readOnly) return;
    try {
      await this.kv.put(key, value, { expirationTtl: ttlSeconds });
    } catch (error) {
      logProblem("device-cache-write-failed", { prefix: key.split(":")[0], error: error instanceof Error ? error.message : String(error) });
    }
  }
}
