import type { DeviceLookup } from "../config/settings";
import type { Fleet } from "./device-cache";
import { pagesLeft, type ListRead } from "./device-list";

/** `DEVICE_LOOKUP` (src/config/settings.ts), and `list`, which always reads the list (for tests). */
export type LookupStrategy = DeviceLookup | "list";

/** What to do next: search each term, read (the rest of) the list, or read its first page to learn its size. */
export type LookupStep = "search" | "list" | "probe";

/**
 * Picks the read that answers `terms` uncached searches in the fewest calls. A search costs
 * one call per term; the list costs one per page of 50 devices left to read, and answers
 * every term. With no idea of the fleet's size, the first page of the list tells it (and
 * counts towards the list); one term alone is always one search.
 */
export function chooseLookup(input: { terms: number; strategy: LookupStrategy; fleet?: Fleet; read?: ListRead; now: number }): LookupStep {
  const { terms, strategy, fleet, read, now } = input;
  if (strategy === "search") return "search";
  if (strategy === "list") return read ? "list" : "probe";
  if (fleet?.unsteady_until !== undefined && fleet.unsteady_until > now) return "search";
  if (read) return pagesLeft(read) < terms ? "list" : "search";
  if (terms < 2) return "search";
  if (!fleet) return "probe";
  return fleet.total_pages < terms ? "list" : "search";
}
