import type { ListedCommand, ResultInfo } from "../model/dex-api";

const PAGE_SIZE = 50;

export interface CommandLister {
  listCommands(query: { from: string; page: number; per_page: number }): Promise<{ commands: ListedCommand[]; resultInfo?: ResultInfo | null }>;
}

/**
 * Every command created since `from`, paged, up to `maxPages` calls: what reconciling an
 * uncertain create and following statuses read. Only the pages that exist are asked for.
 */
export async function listCommandsSince(api: CommandLister, from: number, maxPages: number): Promise<ListedCommand[]> {
  const listed: ListedCommand[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const result = await api.listCommands({ from: new Date(from).toISOString(), page, per_page: PAGE_SIZE });
    listed.push(...result.commands);
    if (page >= (result.resultInfo?.total_pages ?? 1) || result.commands.length < PAGE_SIZE) break;
  }
  return listed;
}
