import { loadRules, type CompiledRule } from "../../src/config/load-rules";
import type { Device } from "../../src/model/dex-api";
import { isDexApiError } from "../../src/model/dex-api-error";
import type { DeviceDirectory, LookupRound } from "../../src/resolve/device-directory";
import { lookupTerm } from "../../src/resolve/device-list";
import type { DeviceSource } from "../../src/resolve/resolve-target";

/** Rules compiled as the relay compiles `RULES`, for the named sources; a refusal fails the test. */
export function compileRules(raw: unknown, sources: readonly string[]): CompiledRule[] {
  const result = loadRules(raw, sources);
  if (!result.ok) throw new Error(result.error);
  return result.rules;
}

/**
 * A device directory over a fixed list that searches as the devices API does (a
 * case-insensitive substring of the name or the email), fails a term when `fail` says so,
 * and remembers the terms it was asked. As a batch's directory (`lookUp`), a rate-limited
 * failure makes the term wait, any other fails it.
 */
export function fakeDirectory(devices: readonly Device[], fail?: (term: string) => Error | undefined): DeviceSource & DeviceDirectory & { terms: string[] } {
  const terms: string[] = [];
  async function search(term: string): Promise<Device[]> {
    terms.push(term);
    const error = fail?.(term);
    if (error) throw error;
    const needle = term.toLowerCase();
    return devices.filter((d) => d.deviceName?.toLowerCase().includes(needle) || d.personEmail?.toLowerCase().includes(needle));
  }
  return {
    terms,
    search,
    async lookUp(asked) {
      const found = new Map<string, Device[]>();
      const failed = new Map<string, unknown>();
      const waiting = new Set<string>();
      let seconds = 0;
      for (const term of new Set(asked.map(lookupTerm))) {
        try {
          found.set(term, await search(term));
        } catch (error) {
          if (isDexApiError(error) && error.kind === "rate-limited") {
            waiting.add(term);
            seconds = Math.max(seconds, error.retryAfterSeconds ?? 300);
          } else {
            failed.set(term, error);
          }
        }
      }
      const round: LookupRound = { found, failed };
      return waiting.size > 0 ? { ...round, waiting: { terms: waiting, seconds, calls: waiting.size } } : round;
    },
  };
}
