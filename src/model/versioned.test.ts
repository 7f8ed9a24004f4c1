import { describe, expect, it } from "vitest";
import { versionedReader, versionOf } from "./versioned";
import * as z from "./zod";

const Named = z.object({ name: z.string() });
const read = versionedReader("thing", {
  1: z.pipe(
    z.object({ title: z.string() }),
    z.transform(({ title }) => ({ name: title })),
  ),
  2: Named,
});

describe("versioned reader", () => {
  it("takes what names no version for version 1, as release 0.1.0 wrote everything", () => {
    expect(versionOf({ title: "a" })).toBe(1);
    expect(versionOf(["a"])).toBe(1);
    expect(versionOf("a")).toBe(1);
    expect(versionOf({ version: 2 })).toBe(2);
  });

  it("reads each version it knows as the current shape, and drops the version", () => {
    expect(read({ title: "old" })).toEqual({ success: true, data: { name: "old" } });
    expect(read({ version: 2, name: "new" })).toEqual({ success: true, data: { name: "new" } });
    // A bare value's version comes from elsewhere (its KV metadata).
    expect(read({ name: "bare" }, 2)).toEqual({ success: true, data: { name: "bare" } });
  });

  it("refuses a version it does not know, naming only a number, and a shape its schema refuses, naming the path", () => {
    expect(read({ version: 3, name: "newer" })).toEqual({ success: false, error: "thing version 3 is not one this release reads (it reads 1, 2)" });
    expect(read({ version: "secret-looking text", name: "x" })).toEqual({
      success: false,
      error: "thing version of type string is not one this release reads (it reads 1, 2)",
    });
    expect(read({ version: 2, name: 7 })).toEqual({ success: false, error: expect.stringMatching(/^thing is malformed: name: /) });
    expect(read({ version: 2, name: 7 })).not.toMatchObject({ error: expect.stringContaining("7") });
  });
});
