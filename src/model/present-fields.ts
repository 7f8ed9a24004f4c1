/**
 * The fields that hold a value, as optional fields: null, undefined and "" are left out, so
 * that an answer or a report never says `"filename": null` for a file that does not exist yet.
 */
export function presentFields<Fields extends Record<string, unknown>>(fields: Fields): { [K in keyof Fields]?: Exclude<Fields[K], null | undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined && value !== "")) as {
    [K in keyof Fields]?: Exclude<Fields[K], null | undefined>;
  };
}
