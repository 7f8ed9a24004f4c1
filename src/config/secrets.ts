/** The bindings that hold text (secrets and plain variables), by name: a misspelt name does not compile. */
export type TextBinding = { [Name in keyof Env]: Env[Name] extends string ? Name : never }[keyof Env];

/**
 * Reads a secret binding, treating unset, empty and whitespace-only alike as missing, so
 * that every caller fails closed the same way.
 */
export function readSecret(env: Env, name: TextBinding): string | undefined {
  const value: unknown = env[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** A secret that may hold several values during rotation, comma-separated. */
export function readSecretList(env: Env, name: TextBinding): string[] {
  return (readSecret(env, name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
