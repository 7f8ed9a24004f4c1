import { describe, expect, it } from "vitest";
import { presentFields } from "./present-fields";

describe("presentFields", () => {
  it("keeps the fields with a value, false, 0 and empty lists included, and leaves out null, undefined and empty text", () => {
    expect(presentFields({ filename: null, status: undefined, device_name: "", notify: [], attempts: 0, final: false, rule: "vpn" })).toEqual({
      notify: [],
      attempts: 0,
      final: false,
      rule: "vpn",
    });
  });
});
