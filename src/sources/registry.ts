import type { SourceAdapter } from "./adapter";
import { pagerduty } from "./pagerduty/adapter";
import { zapier } from "./zapier/adapter";

/** Every source the relay accepts, by the name in `POST /v1/alerts/{source}`. */
export const SOURCES: Readonly<Record<string, SourceAdapter>> = Object.freeze({
  [pagerduty.name]: pagerduty,
  [zapier.name]: zapier,
});

export const SOURCE_NAMES: readonly string[] = Object.keys(SOURCES);

export function sourceNamed(name: string): SourceAdapter | undefined {
  return Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
}
