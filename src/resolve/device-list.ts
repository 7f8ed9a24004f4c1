import type { Device, ResultInfo } from "../model/dex-api";

/** The API's largest page, for searches and list reads alike. */
export const DEVICE_PAGE_SIZE = 50;
/** A search broader than this many pages names no single person or host: stop there. */
export const MAX_DEVICE_PAGES = 5;
/** Pages read side by side: a Worker keeps at most six connections open at once. */
export const READ_CONCURRENCY = 6;

/** One page of `GET /dex/commands/devices`, with or without `search`. */
export interface DevicePage {
  devices: Device[];
  resultInfo?: ResultInfo | null;
}

/** The two reads of the DEX devices endpoint the directory makes (src/dispatch/dex-client.ts). */
export interface DeviceLookupApi {
  searchDevices(search: string, page?: number, perPage?: number): Promise<DevicePage>;
  listDevices(page?: number, perPage?: number): Promise<DevicePage>;
}

/**
 * A read of the account's whole device list, page by page: complete once every page is in.
 * It may span consumer batches, when the API budget runs out part-way.
 */
export interface ListRead {
  total_count: number;
  total_pages: number;
  /** When its first page was read (ms): devices come and go, so a read must not drag on. */
  started_at: number;
  /** Page number → its devices. */
  pages: Record<string, Device[]>;
}

/**
 * Why a list read stopped before it was complete and sound: a call failed (or the budget
 * refused it), or the list moved under the read (a count changed, a device was seen twice or
 * not at all), so that it cannot stand for the fleet.
 */
export type ListReadStop = { error: unknown } | { moved: string };

/** A search term as the relay sends and caches it: `Jane.Doe@Example.com ` and `jane.doe@example.com` are one lookup. */
export function lookupTerm(term: string): string {
  return term.trim().toLowerCase();
}

/**
 * Reads page 1 of the list: what the fleet's size is, and the start of a read. Undefined when
 * the API does not say how many devices there are and the page is full: a list of unknown
 * length cannot be priced or checked, so it is not used.
 */
export async function startListRead(api: DeviceLookupApi, now: number): Promise<ListRead | undefined> {
  const { devices, resultInfo } = await api.listDevices(1, DEVICE_PAGE_SIZE);
  const total = resultInfo?.total_count ?? (devices.length < DEVICE_PAGE_SIZE ? devices.length : undefined);
  if (total === undefined) return undefined;
  return { total_count: total, total_pages: Math.max(1, Math.ceil(total / DEVICE_PAGE_SIZE)), started_at: now, pages: { 1: devices } };
}

export function pagesLeft(read: ListRead): number {
  return read.total_pages - Object.keys(read.pages).length;
}

/**
 * Reads the pages `read` is missing, a few at a time, lowest first; `read` is filled in as
 * pages arrive. Stops at the first refusal of the API budget (the pages read so far are kept
 * for a later batch), at the first failure, or as soon as a page says the list changed size.
 */
export async function continueListRead(api: DeviceLookupApi, read: ListRead): Promise<ListReadStop | undefined> {
  const missing = Array.from({ length: read.total_pages }, (_, i) => i + 1).filter((page) => !read.pages[page]);
  let stop: ListReadStop | undefined;
  let next = 0;
  async function reader(): Promise<void> {
    while (!stop && next < missing.length) {
      const page = missing[next++]!;
      try {
        const result = await api.listDevices(page, DEVICE_PAGE_SIZE);
        const total = result.resultInfo?.total_count;
        if (total !== read.total_count) stop ??= { moved: `page ${page} counts ${total} devices, page 1 ${read.total_count}` };
        else read.pages[page] = result.devices;
      } catch (error) {
        stop ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, missing.length) }, reader));
  if (stop || pagesLeft(read) > 0) return stop;
  const registrations = new Set(listedDevices(read).map((d) => `${d.deviceId}\n${d.registrationId ?? ""}`));
  if (registrations.size !== read.total_count) {
    return { moved: `the pages hold ${registrations.size} of ${read.total_count} registrations` };
  }
  return undefined;
}

/** Every device of a complete read, in the API's order. */
export function listedDevices(read: ListRead): Device[] {
  return Object.keys(read.pages)
    .map(Number)
    .sort((a, b) => a - b)
    .flatMap((page) => read.pages[page]!);
}

/**
 * Answers searches from a complete list exactly as the devices endpoint's `search` would:
 * devices whose name or email contains the term, ignoring case, in the list's order, cut
 * where a paged search stops reading (MAX_DEVICE_PAGES pages). Resolution then filters these
 * candidates the same way whichever read found them.
 */
export function listSearcher(devices: readonly Device[]): (term: string) => Device[] {
  const names = devices.map((d) => d.deviceName?.toLowerCase() ?? "");
  const emails = devices.map((d) => d.personEmail?.toLowerCase() ?? "");
  return (term) => {
    const needle = lookupTerm(term);
    const found: Device[] = [];
    for (let i = 0; i < devices.length && found.length < MAX_DEVICE_PAGES * DEVICE_PAGE_SIZE; i++) {
      if (names[i]!.includes(needle) || emails[i]!.includes(needle)) found.push(devices[i]!);
    }
    return found;
  };
}

/** A search read as the endpoint pages it, up to MAX_DEVICE_PAGES pages. */
export async function searchAllPages(api: DeviceLookupApi, term: string): Promise<Device[]> {
  const devices: Device[] = [];
  for (let page = 1; page <= MAX_DEVICE_PAGES; page++) {
    const result = await api.searchDevices(term, page, DEVICE_PAGE_SIZE);
    devices.push(...result.devices);
    const totalPages = result.resultInfo?.total_pages ?? 1;
    if (page >= totalPages || result.devices.length < DEVICE_PAGE_SIZE) break;
  }
  return devices;
}
