import { formatIssues } from "./schema-issues";
import type * as z from "./zod";

/** A stored shape, read: the current one, or why this release cannot read it. */
export type Read<T> = { success: true; data: T } | { success: false; error: string };

/**
 * The version a stored record or message names. Release 0.1.0 wrote no version anywhere:
 * what names none is version 1.
 */
export function versionOf(stored: unknown): unknown {
  return typeof stored === "object" && stored !== null && !Array.isArray(stored) && "version" in stored ? stored.version : 1;
}

/**
 * A reader of every version of one stored shape that this release knows: each version's
 * schema reads it and turns it into the current shape, so an old shape is upgraded in this
 * one place. A version this release does not know (one written by a newer release, read
 * after a rollback) is refused whole rather than guessed at, and so is a shape its schema
 * refuses; the error names the path, never a value.
 *
 * `version` is the stored one's own by default; a record kept as a bare value (a string, a
 * list) carries it in its KV metadata instead, and the caller hands it in.
 */
export function versionedReader<T>(what: string, schemas: Readonly<Record<number, z.ZodMiniType<T, unknown>>>) {
  return function read(stored: unknown, version: unknown = versionOf(stored)): Read<T> {
    const schema = typeof version === "number" && Object.hasOwn(schemas, version) ? schemas[version] : undefined;
    if (!schema) {
      // Only a number is repeated back: anything else in its place is not ours to echo.
      const named = typeof version === "number" ? String(version) : `of type ${version === null ? "null" : typeof version}`;
      return { success: false, error: `${what} version ${named} is not one this release reads (it reads ${Object.keys(schemas).join(", ")})` };
    }
    const parsed = schema.safeParse(stored);
    return parsed.success ? { success: true, data: parsed.data } : { success: false, error: `${what} is malformed: ${formatIssues(parsed.error)}` };
  };
}
