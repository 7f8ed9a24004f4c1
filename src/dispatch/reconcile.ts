import type { CommandType, ListedCommand, ResultInfo } from "./dex/schemas";

/** Clocks differ between the Worker and the API: look a little before the claim. */
const CLOCK_SKEW_MS = 2 * 60_000;
const PAGE_SIZE = 50;
/** Reconciling covers minutes, not days: more than this many pages is not one relay's doing. */
const MAX_PAGES = 10;

export interface CommandLister {
  listCommands(query: {
    from: string;
    page: number;
    per_page: number;
  }): Promise<{ commands: ListedCommand[]; resultInfo?: ResultInfo | null }>;
}

export interface Unconfirmed {
  device_id: string;
  registration_id?: string;
  type: CommandType;
  /** When the earlier attempt claimed the command, just before sending it. */
  since: Date;
}

/**
 * After a create that may or may not have landed (5xx, timeout, lost connection, or a
 * consumer that died between sending and recording), asks the API which of these commands
 * exist. Returns the command id for each one found, undefined for each one that did not land.
 */
export async function findLanded(api: CommandLister, wanted: readonly Unconfirmed[]): Promise<(string | undefined)[]> {
  if (wanted.length === 0) return [];
  const earliest = Math.min(...wanted.map((w) => w.since.getTime())) - CLOCK_SKEW_MS;
  const listed: ListedCommand[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const result = await api.listCommands({ from: new Date(earliest).toISOString(), page, per_page: PAGE_SIZE });
    listed.push(...result.commands);
    if (page >= (result.resultInfo?.total_pages ?? 1) || result.commands.length < PAGE_SIZE) break;
  }
  const used = new Set<string>();
  return wanted.map((w) => {
    const found = listed.find(
      (c) =>
        !used.has(c.id) &&
        c.device_id === w.device_id &&
        c.type === w.type &&
        (!w.registration_id || !c.registration_id || c.registration_id === w.registration_id) &&
        (!c.created_date || Date.parse(c.created_date) >= w.since.getTime() - CLOCK_SKEW_MS),
    );
    if (found) used.add(found.id);
    return found?.id;
  });
}
