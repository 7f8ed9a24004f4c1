import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { SOURCE_NAMES } from "../sources/registry";
import { loadConfig, loadDexSettings } from "./settings";

const withVars = (vars: Record<string, unknown>) => ({ ...env, ...vars }) as Env;

describe("loadDexSettings", () => {
  it("refuses the placeholder account id wrangler.toml ships", () => {
    const result = loadDexSettings(withVars({ CF_ACCOUNT_ID: "replace-with-your-account-id" }));
    expect(result).toEqual({ ok: false, error: "CF_ACCOUNT_ID: is still the placeholder from wrangler.toml: set your account id" });
  });

  it("fails closed without a DEX token", () => {
    expect(loadDexSettings(withVars({ DEX_API_TOKEN: "", CF_API_TOKEN: undefined }))).toEqual({ ok: false, error: "DEX_API_TOKEN: is not set" });
  });

  it("still reads the former CF_API_TOKEN when DEX_API_TOKEN is unset, and says so once", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const legacy = withVars({ DEX_API_TOKEN: "", CF_API_TOKEN: "legacy-dex-token" });
    const first = loadDexSettings(legacy);
    const second = loadDexSettings(legacy);
    expect(first.ok && first.settings.dexApiToken).toBe("legacy-dex-token");
    expect(second.ok && second.settings.dexApiToken).toBe("legacy-dex-token");
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    for (const [line] of warn.mock.calls) {
      expect(JSON.parse(String(line))).toEqual({ event: "config-deprecated", setting: "CF_API_TOKEN", use: "DEX_API_TOKEN" });
      expect(String(line)).not.toContain("legacy-dex-token");
    }
  });

  it("prefers DEX_API_TOKEN when both are set", () => {
    const result = loadDexSettings(withVars({ DEX_API_TOKEN: "new-token", CF_API_TOKEN: "old-token" }));
    expect(result.ok && result.settings.dexApiToken).toBe("new-token");
  });
});

describe("DEVICE_LOOKUP", () => {
  it("is auto when unset, search when asked, and refused, with its name, when it is anything else", () => {
    const lookupOf = (value: unknown) => {
      const loaded = loadConfig(withVars({ DEVICE_LOOKUP: value }), SOURCE_NAMES);
      return loaded.ok ? loaded.config.deviceLookup : loaded.error;
    };
    expect(lookupOf(undefined)).toBe("auto");
    expect(lookupOf("")).toBe("auto");
    expect(lookupOf("search")).toBe("search");
    expect(lookupOf("list")).toMatch(/^DEVICE_LOOKUP: /);
  });
});
