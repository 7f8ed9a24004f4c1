import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./retry-after";

const NOW = new Date("2026-11-20T10:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
  });

  it("reads an HTTP date as the seconds until it, rounded up, and a past one as 0", () => {
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:01:30 GMT", NOW)).toBe(90);
    expect(parseRetryAfter("Friday, 20-Nov-26 10:00:01 GMT", NOW)).toBe(1);
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", NOW)).toBe(0);
  });

  it.each([[null], [undefined], [""], ["  "], ["soon"], ["1.5"], ["-1"], ["12-3"]])("answers undefined for %j", (header) => {
    expect(parseRetryAfter(header, NOW)).toBeUndefined();
  });
});
