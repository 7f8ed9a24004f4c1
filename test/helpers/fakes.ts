import { loadRules, type CompiledRule } from "../../src/config/load-rules";
import type { Device } from "../../src/model/dex-api";
import type { DeviceDirectory } from "../../src/resolve/device-directory";

/** Rules compiled as the relay compiles `RULES`, for the named sources; a refusal fails the test. */
export function compileRules(raw: unknown, sources: readonly string[]): CompiledRule[] {
  const result = loadRules(raw, sources);
  if (!result.ok) throw new Error(result.error);
  return result.rules;
}

/**
 * A device directory over a fixed list that searches as the devices API does (a
 * case-insensitive substring of the name or the email), fails a term when `fail` says so,
 * and remembers the terms it was asked.
 */
export function fakeDirectory(
  devices: readonly Device[],
  fail?: (term: string) => Error | undefined,
): DeviceDirectory & { terms: string[] } {
  const terms: string[] = [];
  return {
    terms,
    lookups: 0,
    async search(term) {
      terms.push(term);
      const error = fail?.(term);
      if (error) throw error;
      const needle = term.toLowerCase();
      return devices.filter((d) => d.deviceName?.toLowerCase().includes(needle) || d.personEmail?.toLowerCase().includes(needle));
    },
  };
}
