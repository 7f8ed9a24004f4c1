import { describe, expect, it } from "vitest";
import { jsonSyntaxError } from "./health";

describe("jsonSyntaxError", () => {
  it("says where JSON breaks, by line and column", () => {
    expect(jsonSyntaxError("RULES", '[{"name":"x",}]')).toBe("RULES: not valid JSON: at line 1, column 14");
    expect(jsonSyntaxError("RULES", '[\n  {"name": x}\n]')).toBe("RULES: not valid JSON: at line 2, column 12");
    expect(jsonSyntaxError("RULES", '[{"name":"x"}')).toBe("RULES: not valid JSON: it ends too early");
    expect(jsonSyntaxError("RULES", "[]")).toBeUndefined();
  });
});

describe("jsonErrorOffset", () => {
  it("accepts what JSON.parse accepts, and refuses what it refuses", async () => {
    const { jsonErrorOffset } = await import("../config/json-position");
    const valid = ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"]}', " [ ] ", '""', "0"];
    const invalid = ["", "[1,]", "{'a':1}", '{"a"1}', "01", '"\\x"', "[1] 2", "tru", '"open', "{,}"];
    for (const text of valid) expect(jsonErrorOffset(text), text).toBeUndefined();
    for (const text of invalid) {
      expect(() => JSON.parse(text)).toThrow();
      expect(jsonErrorOffset(text), text).toEqual(expect.any(Number));
    }
  });
});
