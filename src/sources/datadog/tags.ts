/** Datadog's `$TAGS`, each tag's key with its values in the order they came. */
export type Tags = ReadonlyMap<string, readonly string[]>;

/**
 * Bounds on the labels tags become, so an alert always fits in a queue message. A host can
 * carry hundreds of tags; those past the bounds are dropped, not cut, so that a label is
 * either the tag's real value or absent.
 */
export const MAX_TAG_LABELS = 64;
export const MAX_LABEL_KEY_LENGTH = 128;
export const MAX_LABEL_VALUE_LENGTH = 1024;
/** Longer device ids, emails or host names than this are not real ones. */
const MAX_TARGET_LENGTH = 256;

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
 * value contains), and a tag without a value reads "true", as a marker would. At most
 * {@link MAX_TAG_LABELS}, each within the length bounds.
 */
export function tagLabels(tags: Tags): Record<string, string> {
  return Object.fromEntries(
    Array.from(tags, ([key, values]) => [key, values.length ? values.join(",") : "true"] as const)
      .filter(([key, value]) => key.length <= MAX_LABEL_KEY_LENGTH && value.length <= MAX_LABEL_VALUE_LENGTH)
      .slice(0, MAX_TAG_LABELS),
  );
}

/** The first value of the first of `keys` that has one short enough to name a device. */
export function firstTag(tags: Tags, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = tags.get(key)?.[0];
    if (value && value.length <= MAX_TARGET_LENGTH) return value;
  }
  return undefined;
}
