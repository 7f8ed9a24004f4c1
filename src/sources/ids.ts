import { sha256Hex } from "../crypto/hmac";

/**
 * Characters that change how an id is written but not what it says: zero-width spaces and
 * joiners, the byte-order mark, soft hyphens, bidirectional marks (Unicode "format"
 * characters) and control characters.
 */
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;

/**
 * The one spelling of an id that the relay stores: Unicode NFKC (full-width and ligature
 * forms become plain ones), invisible characters removed, surrounding white space trimmed,
 * inner runs of white space made one space, lower-cased. `TICKET-1042`, ` ticket-1042 ` and
 * `TICKET\u200b-1042` are one episode, so variants of one alert cannot multiply it.
 */
export function normalizeId(value: string | number): string {
  return String(value).normalize("NFKC").replace(INVISIBLE, "").trim().replace(/\s+/g, " ").toLowerCase();
}

/**
 * A hash that is the same for every spelling of the same fields: keys sorted, each value a
 * string normalized as an id is. Two bodies that differ only in white space, key order,
 * encoding (JSON or form) or invisible characters hash alike.
 */
export async function canonicalHash(fields: Readonly<Record<string, unknown>>): Promise<string> {
  const entries = Object.entries(fields)
    .filter(([, value]) => typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    .map(([key, value]) => [normalizeId(key), normalizeId(String(value))] as const)
    .filter(([, value]) => value !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(JSON.stringify(entries));
}
