import { describe, expect, it } from "vitest";
import published from "../../schema/rules.schema.json";
import { rulesJsonSchema } from "./rules-json-schema";

describe("schema/rules.schema.json", () => {
  it("is the JSON Schema of the rules the relay validates with (run `npm run schema` after changing them)", () => {
    expect(published).toEqual(rulesJsonSchema());
  });

  it("describes the command types and their args", () => {
    const text = JSON.stringify(published);
    for (const word of ["pcap", "warp-diag", "speed-test", "time-limit-min", "test-all-routes", "interfaces", "cooldown_minutes"]) {
      expect(text).toContain(word);
    }
  });
});
