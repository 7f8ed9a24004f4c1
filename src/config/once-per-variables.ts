/**
 * `read(env)`, read again only when one of `variables` differs from the last call's: the
 * configuration is checked once per isolate, and a test's copy of `env` with other values is
 * checked anew.
 */
export function oncePerVariables<T>(variables: readonly string[], read: (env: Env) => T): (env: Env) => T {
  let last: { raw: unknown[]; result: T } | undefined;
  return (env) => {
    const raw = variables.map((name) => (env as unknown as Record<string, unknown>)[name]);
    if (last && raw.every((value, i) => value === last!.raw[i])) return last.result;
    const result = read(env);
    last = { raw, result };
    return result;
  };
}
