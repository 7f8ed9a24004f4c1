import { isDexApiError, RATE_LIMIT_LOCKOUT_SECONDS, type DexApiError } from "../model/dex-api-error";
import type { Device } from "../model/dex-api";
import { logEvent, logProblem } from "../record/log";
import { DeviceCache, UNSTEADY_LIST_MS } from "./device-cache";
import {
  continueListRead,
  listedDevices,
  listSearcher,
  lookupTerm,
  pagesLeft,
  READ_CONCURRENCY,
  searchAllPages,
  startListRead,
  type DeviceLookupApi,
  type ListRead,
} from "./device-list";
import { chooseLookup, type LookupStep, type LookupStrategy } from "./lookup-choice";
import type { DeviceSource } from "./resolve-target";

/** Terms the API budget could not pay for: when it can, and how much it will have to pay. */
export interface BudgetWait {
  terms: ReadonlySet<string>;
  /** What the budget (or the API's own 429) said to wait before the next call. */
  seconds: number;
  /** Calls the waiting terms still need, at the least. */
  calls: number;
}

/** What one round of lookups learned; terms are as `lookupTerm` writes them. */
export interface LookupRound {
  found: ReadonlyMap<string, readonly Device[]>;
  /** Terms whose lookup failed for a passing reason (a 5xx, a timeout, storage). */
  failed: ReadonlyMap<string, unknown>;
  waiting?: BudgetWait;
  /** How the API was read this round, if it was. */
  step?: LookupStep;
}

/** Looks up, for a consumer batch, every term its alerts search devices by. */
export interface DeviceDirectory {
  /** Looks `terms` up, the most urgent first, as far as the API budget pays now. */
  lookUp(terms: readonly string[]): Promise<LookupRound>;
}

export interface DirectoryOptions {
  /** A dry run: caches are read, never written. */
  readOnly?: boolean;
  strategy?: LookupStrategy;
  now?: () => number;
}

/**
 * A device directory for one consumer batch. Every term is answered once per batch (in
 * memory) and from KV for a minute across batches; what remains is read from the API the
 * cheaper way: one search per term, or one paged read of the whole eligible-device list when
 * the fleet has fewer pages than there are terms (then kept a minute for every batch). Every
 * call goes through the API budget; when it runs out, the terms left wait, and a list read
 * part-way is kept for the next batch to finish.
 */
export function createDeviceDirectory(api: DeviceLookupApi, kv: KVNamespace, accountId: string, options: DirectoryOptions = {}): DeviceDirectory {
  const cache = new DeviceCache(kv, accountId, options.readOnly ?? false);
  const now = options.now ?? Date.now;
  const strategy = options.strategy ?? "auto";
  const known = new Map<string, readonly Device[]>();
  let calls = 0;
  const counted: DeviceLookupApi = {
    searchDevices: (...args) => {
      calls++;
      return api.searchDevices(...args);
    },
    listDevices: (...args) => {
      calls++;
      return api.listDevices(...args);
    },
  };

  return {
    async lookUp(terms) {
      const wanted = [...new Set(terms.map(lookupTerm).filter((term) => term !== ""))];
      const round: MutableRound = { found: new Map(), failed: new Map() };
      if (wanted.length === 0) return round;
      const before = calls;
      let open = wanted.filter((term) => !known.has(term));
      if (open.length > 0) {
        for (const [term, devices] of await cache.searches(open)) known.set(term, devices);
        open = open.filter((term) => !known.has(term));
      }
      let read: ListRead | undefined;
      if (open.length > 0 && strategy !== "search") {
        read = await cache.list(now());
        if (read && pagesLeft(read) === 0) {
          answerFromList(read, open);
          open = [];
        }
      }
      if (open.length > 0) await readApi(open, read, round);
      for (const term of wanted) {
        const devices = known.get(term);
        if (devices) round.found.set(term, devices);
      }
      logEvent("device-lookup", { terms: wanted.length, step: round.step, calls: calls - before, waiting: round.waiting?.terms.size });
      return round;
    },
  };

  function answerFromList(read: ListRead, terms: readonly string[]): void {
    const search = listSearcher(listedDevices(read));
    for (const term of terms) known.set(term, search(term));
  }

  /** Reads what the caches did not answer, the cheaper way. */
  async function readApi(open: string[], cached: ListRead | undefined, round: MutableRound): Promise<void> {
    let read = cached;
    const fleet = strategy === "auto" ? await cache.fleet() : undefined;
    let step = chooseLookup({ terms: open.length, strategy, fleet, read, now: now() });
    if (step === "probe" || (step === "list" && !read)) {
      try {
        read = await startListRead(counted, now());
      } catch (error) {
        return failOrWait(round, open, error, open.length);
      }
      if (read) await cache.saveFleet({ total_pages: read.total_pages });
      step = read ? chooseLookup({ terms: open.length, strategy, fleet, read, now: now() }) : "search";
    }
    round.step = step;
    if (step === "list" && read && (await readList(read, open, round))) return;
    round.step = "search";
    await searchEach(open, round);
  }

  /** Finishes a list read and answers `open` from it; false when the list moved under the read. */
  async function readList(read: ListRead, open: string[], round: MutableRound): Promise<boolean> {
    const stop = await continueListRead(counted, read);
    if (stop && "moved" in stop) {
      logProblem("device-list-unsteady", { reason: stop.moved, pages: read.total_pages });
      await cache.saveFleet({ total_pages: read.total_pages, unsteady_until: now() + UNSTEADY_LIST_MS });
      return false;
    }
    await cache.saveList(read);
    if (stop) failOrWait(round, open, stop.error, pagesLeft(read));
    else {
      await cache.saveFleet({ total_pages: read.total_pages });
      answerFromList(read, open);
    }
    return true;
  }

  /** One search per term, a few side by side, the most urgent first, until the budget says wait. */
  async function searchEach(open: string[], round: MutableRound): Promise<void> {
    const writes: Promise<void>[] = [];
    const limited: string[] = [];
    let stop: DexApiError | undefined;
    let next = 0;
    async function searcher(): Promise<void> {
      while (!stop && next < open.length) {
        const term = open[next++]!;
        try {
          const devices = await searchAllPages(counted, term);
          known.set(term, devices);
          writes.push(cache.saveSearch(term, devices));
        } catch (error) {
          if (isRateLimited(error)) {
            stop ??= error;
            limited.push(term);
          } else {
            round.failed.set(term, error);
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, open.length) }, searcher));
    await Promise.all(writes);
    if (stop) {
      const waiting = [...limited, ...open.slice(next)];
      round.waiting = { terms: new Set(waiting), seconds: waitOf(stop), calls: waiting.length };
    }
  }
}

interface MutableRound extends LookupRound {
  found: Map<string, readonly Device[]>;
  failed: Map<string, unknown>;
}

/** The budget said wait: every open term waits; anything else failed them for now. */
function failOrWait(round: MutableRound, open: readonly string[], error: unknown, calls: number): void {
  if (isRateLimited(error)) {
    round.waiting = { terms: new Set(open), seconds: waitOf(error), calls };
    return;
  }
  for (const term of open) round.failed.set(term, error);
}

function isRateLimited(error: unknown): error is DexApiError {
  return isDexApiError(error) && error.kind === "rate-limited";
}

function waitOf(error: DexApiError): number {
  return Math.max(1, error.retryAfterSeconds ?? RATE_LIMIT_LOCKOUT_SECONDS);
}

/** Answers resolution's searches from what a round found: every term asked must have been looked up. */
export function foundDevices(round: LookupRound): DeviceSource {
  return {
    async search(term) {
      const devices = round.found.get(lookupTerm(term));
      if (!devices) throw new Error("device search of a term not looked up");
      return devices;
    },
  };
}
