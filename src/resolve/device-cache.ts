import { Device } from "../model/dex-api";
import { versionedReader, versionOf } from "../model/versioned";
import * as z from "../model/zod";
import { deviceListKey, DEVICES_PREFIX, devicesKey, fleetKey } from "../model/kv-keys";
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
/** Keys per bulk read: KV's maximum. */
const BULK_READ_KEYS = 100;

/** The version of the list and fleet entries this release writes; others are read as missing. */
const ENTRY_VERSION = 1;
/**
 * The version of a cached search, kept in the entry's KV metadata: the value stays the bare
 * list of devices release 0.1.0 cached (version 1).
 */
export const DEVICE_CACHE_VERSION = 2;
const readCachedSearch = versionedReader("device cache", { 1: z.array(Device), [DEVICE_CACHE_VERSION]: z.array(Device) });

/** What the relay knows of an account's fleet. */
export interface Fleet {
  total_pages: number;
  /** Until then (ms) a list read is not trusted: the last one moved under the reader. */
  unsteady_until?: number;
}

/**
 * The device lookups of one account kept in KV: each search for a minute, the whole list
 * (or the part read so far) for a minute, and the fleet's size for an hour. KV failing costs
 * lookups, nothing else: a read that fails is a miss, and a write that KV refuses (one write
 * a second per key; a value over 25 MiB, some 80,000 devices) is passed over; both are logged.
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
      const entries = await this.kv.getWithMetadata<unknown, unknown>(keys, "json").catch(readFailed);
      chunk.forEach((term, i) => {
        const entry = entries?.get(keys[i]!);
        if (!entry || entry.value === null) return;
        // An entry this release cannot read (a newer release's) is only a cache: a miss.
        const cached = readCachedSearch(entry.value, versionOf(entry.metadata));
        if (cached.success) found.set(term, cached.data);
      });
    }
    return found;
  }

  async saveSearch(term: string, devices: readonly Device[]): Promise<void> {
    await this.#put(await devicesKey(this.accountId, term), devices, DEVICE_CACHE_TTL_SECONDS);
  }

  /** The list read kept for the account: complete, or part-way and young enough to continue. */
  async list(now: number): Promise<ListRead | undefined> {
    const read = await this.#get<ListRead>(deviceListKey(this.accountId));
    if (typeof read?.pages !== "object" || (pagesLeft(read) > 0 && now - read.started_at > LIST_READ_HORIZON_MS)) return undefined;
    return read;
  }

  /** Keeps a list read: a minute when complete, else until it is too old to continue. */
  async saveList(read: ListRead): Promise<void> {
    await this.#put(deviceListKey(this.accountId), read, pagesLeft(read) > 0 ? LIST_READ_HORIZON_MS / 1000 : DEVICE_CACHE_TTL_SECONDS);
  }

  async fleet(): Promise<Fleet | undefined> {
    const fleet = await this.#get<Fleet>(fleetKey(this.accountId));
    return typeof fleet?.total_pages === "number" ? fleet : undefined;
  }

  async saveFleet(fleet: Fleet): Promise<void> {
    await this.#put(fleetKey(this.accountId), fleet, FLEET_TTL_SECONDS);
  }

  /** An entry of this release's version, else nothing: an entry of another is a miss. */
  async #get<T>(key: string): Promise<T | undefined> {
    const entry = await this.kv.get<{ version?: number; value: T }>(key, "json").catch(readFailed);
    return entry?.version === ENTRY_VERSION ? entry.value : undefined;
  }

  async #put(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    if (this.readOnly) return;
    // Searches are kept as a bare list of devices, as release 0.1.0 kept them (which it still
    // reads after a rollback), their version in the metadata.
    const search = key.startsWith(DEVICES_PREFIX);
    const text = JSON.stringify(search ? value : { version: ENTRY_VERSION, value });
    const options = search ? { expirationTtl: ttlSeconds, metadata: { version: DEVICE_CACHE_VERSION } } : { expirationTtl: ttlSeconds };
    await this.kv.put(key, text, options).catch((error) => logProblem("device-cache-write-failed", { prefix: key.split(":")[0], error: messageOf(error) }));
  }
}

/** A read KV failed: a miss, said in the log. */
function readFailed(error: unknown): undefined {
  logProblem("device-cache-read-failed", { error: messageOf(error) });
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
