import { describe, expect, it } from "vitest";
import type { ListedCommand } from "./dex/schemas";
import { findLanded, type CommandLister } from "./reconcile";

function lister(pages: ListedCommand[][]): CommandLister & { queries: unknown[] } {
  const queries: unknown[] = [];
  return {
    queries,
    async listCommands(query) {
      queries.push(query);
      const commands = pages[query.page - 1] ?? [];
      return { commands, resultInfo: { page: query.page, per_page: query.per_page, total_pages: pages.length } };
    },
  };
}

const since = new Date("2026-11-25T12:00:00Z");
const listed = (id: string, device_id: string, type: string, created: string): ListedCommand => ({
  id,
  device_id,
  type,
  created_date: created,
  status: "PENDING_EXEC",
});

describe("findLanded", () => {
  it("finds commands an earlier attempt created, and only those", async () => {
    const api = lister([[listed("c-1", "d-1", "pcap", "2026-11-25T12:00:01Z"), listed("c-2", "d-2", "warp-diag", "2026-11-25T12:00:01Z")]]);
    const found = await findLanded(api, [
      { device_id: "d-1", type: "pcap", since },
      { device_id: "d-2", type: "pcap", since },
      { device_id: "d-3", type: "pcap", since },
    ]);
    expect(found).toEqual(["c-1", undefined, undefined]);
    expect(api.queries[0]).toEqual({ from: "2026-11-25T11:58:00.000Z", page: 1, per_page: 50 });
  });

  it("ignores a command of the same kind created long before the claim", async () => {
    const api = lister([[listed("old", "d-1", "pcap", "2026-11-25T11:00:00Z")]]);
    expect(await findLanded(api, [{ device_id: "d-1", type: "pcap", since }])).toEqual([undefined]);
  });

  it("pages through a long list and uses each command once", async () => {
    const full = Array.from({ length: 50 }, (_, i) => listed(`x-${i}`, `other-${i}`, "pcap", "2026-11-25T12:00:02Z"));
    const api = lister([full, [listed("c-a", "d-1", "pcap", "2026-11-25T12:00:03Z")]]);
    const found = await findLanded(api, [
      { device_id: "d-1", type: "pcap", since },
      { device_id: "d-1", type: "pcap", since },
    ]);
    expect(found).toEqual(["c-a", undefined]);
    expect(api.queries).toHaveLength(2);
  });

  it("makes no call when there is nothing to check", async () => {
    const api = lister([]);
    expect(await findLanded(api, [])).toEqual([]);
    expect(api.queries).toEqual([]);
  });
});
