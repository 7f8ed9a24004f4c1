/**
 * Reads a secret binding, treating unset, empty and whitespace-only alike as missing, so
 * that every caller fails closed the same way.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** A secret that may hold several values during rotation, comma-separated. */
export function readSecretList(env: Env, name: string): string[] {
  return (readSecret(env, name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
