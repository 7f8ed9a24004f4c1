import { MAX_TARGET_LENGTH } from "../limits";
import { boundedLabels } from "../toolkit";

/** Datadog's `$TAGS`, each tag's key with its values in the order they came. */
export type Tags = ReadonlyMap<string, readonly string[]>;

/**
 * Parses `$TAGS`: `key:value` tags separated by commas. The key ends at the first ':', so a
 * value keeps the rest (`url:https://vpn.example.com:8443`). A key given several values
 * (`role:vpn,role:dns`) keeps each once; a tag without ':' is a key without values.
 */
export function parseTags(tags: string | undefined): Tags {
  const parsed = new Map<string, string[]>();
  for (const tag of (tags ?? "").split(",")) {
    const colon = tag.indexOf(":");
    const key = (colon === -1 ? tag : tag.slice(0, colon)).trim();
    if (!key) continue;
    const values = parsed.get(key) ?? [];
    parsed.set(key, values);
    const value = colon === -1 ? "" : tag.slice(colon + 1).trim();
    if (value && !values.includes(value)) values.push(value);
  }
  return parsed;
}

/**
 * Tags as labels rules can match: several values are joined with ',' (which no Datadog tag
 * value contains), and a tag without a value reads "true", as a marker would. A host can
 * carry hundreds of tags; those past the label bounds are dropped, not cut, so that a label
 * is either the tag's real value or absent.
 */
export function tagLabels(tags: Tags): Record<string, string> {
  return boundedLabels(Array.from(tags, ([key, values]) => [key, values.length ? values.join(",") : "true"] as const));
}

/** The first value of the first of `keys` that has one short enough to name a device. */
export function firstTag(tags: Tags, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = tags.get(key)?.[0];
    if (value && value.length <= MAX_TARGET_LENGTH) return value;
  }
  return undefined;
}
