import { describe, expect, it } from "vitest";
import { admit, perSourceCap, type Waiting } from "./admission";

const waiting = (key: string, source: string, severity_rank: number, queued_at: number): Waiting => ({ key, source, severity_rank, queued_at });

describe("admit", () => {
  it("admits up to the cap, counting what the last minute already admitted", () => {
    const queue = [1, 2, 3, 4].map((i) => waiting(`k${i}`, `s${i}`, 0, i));
    expect(admit(queue, ["s9"], 3)).toEqual(["k1", "k2"]);
  });

  it("lets the most severe go first, then the oldest", () => {
    const queue = [waiting("info", "a", 3, 1), waiting("critical-late", "b", 0, 5), waiting("critical-early", "c", 0, 2)];
    expect(admit(queue, [], 2)).toEqual(["critical-early", "critical-late"]);
  });

  it("keeps a quarter of the minute for the other sources", () => {
    expect(perSourceCap(30)).toBe(23);
    expect(perSourceCap(4)).toBe(3);
    expect(perSourceCap(1)).toBe(1);
    const flood = Array.from({ length: 10 }, (_, i) => waiting(`z${i}`, "zapier", 0, i));
    expect(admit(flood, [], 4)).toEqual(["z0", "z1", "z2"]);
    const late = [...flood, waiting("page", "pagerduty", 0, 100)];
    expect(admit(late, ["zapier", "zapier", "zapier"], 4)).toEqual(["page"]);
  });

  it("admits nothing when the minute is full", () => {
    expect(admit([waiting("k", "a", 0, 0)], ["a", "b"], 2)).toEqual([]);
  });
});
