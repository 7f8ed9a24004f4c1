import { describe, expect, it } from "vitest";
import { backtrackingRisk } from "./backtracking";

const SHIPPED_TITLE = "(packet loss|dropping packets)(?:.*?(?<user_email>[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+))?";

describe("backtrackingRisk", () => {
  it.each([
    ["(\\w+\\s?)*", ""],
    ["^(\\w+\\s?)*$", ""],
    ["(a+)+$", ""],
    ["(a*)*b", ""],
    ["(a|a)*$", ""],
    ["(a|ab)+c", ""],
    ["(\\w|\\d)+x", ""],
    ["(?:a?a?)+b", ""],
    ["(.*,)*x", ""],
    ["((ab)*c)*d", ""],
    ["(\\1a)*", ""],
    ["(?=(a+)+)b", ""],
    ["\\w*\\w*\\w*x", ""],
    ["^\\w*\\w*\\w*\\w*x", ""],
    ["(A+)+$", "i"],
    ["([a-z]+)*$", "i"],
  ])("refuses %s (flags %j)", (source, flags) => {
    expect(backtrackingRisk(source, flags)).toBeDefined();
  });

  it.each([
    [SHIPPED_TITLE, "i"],
    ["packet loss", ""],
    ["/vpn/", "i"],
    ["for (?<user_email>\\S+@\\S+) on (?<hostname>[\\w-]+)", "i"],
    ["(?:\\.[\\w-]+)+$", ""],
    ["(\\d+\\.){3}\\d+", ""],
    ["(?:cat|dog)+", ""],
    ["^[a-z]+-\\d+$", "i"],
    ["packet loss.*?(?<user_email>[\\w.+-]+@[\\w.-]+)", "i"],
    ["(?<hostname>[A-Z0-9-]+)\\.corp\\.example\\.com", ""],
    ["\\p{L}+\\s\\u00e9", "u"],
  ])("accepts %s (flags %j)", (source, flags) => {
    expect(backtrackingRisk(source, flags)).toBeUndefined();
  });
});
