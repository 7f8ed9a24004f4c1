/// <reference types="vite/client" />
import { SOURCES } from "../../src/sources/registry";

/** A real delivery body of one source, as its sender sends it. */
export interface SourceFixture {
  source: string;
  name: string;
  body: string;
  contentType: string;
}

const FORM = "application/x-www-form-urlencoded";

/** Every `src/sources/<name>/fixtures/*` file, found at build time so new sources are included. */
const files = import.meta.glob<string>("../../src/sources/*/fixtures/*", { query: "?raw", import: "default", eager: true });

/**
 * The fixtures of `source`: `.json` files are JSON deliveries, other files are form
 * deliveries when the source takes forms (Zapier). A source without fixtures gets none.
 */
export function fixturesOf(source: string): SourceFixture[] {
  const adapter = SOURCES[source];
  if (!adapter) return [];
  return Object.entries(files).flatMap(([path, body]) => {
    const match = /\/sources\/([^/]+)\/fixtures\/([^/]+)$/.exec(path);
    if (!match || match[1] !== source) return [];
    const name = match[2]!;
    const contentType = name.endsWith(".json") ? "application/json" : adapter.contentTypes.includes(FORM) ? FORM : undefined;
    return contentType ? [{ source, name, body, contentType }] : [];
  });
}
