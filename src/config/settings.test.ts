import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { SOURCE_NAMES } from "../sources/registry";
import { loadConfig, loadDexSettings } from "./settings";

const withVars = (vars: Record<string, unknown>) => ({ ...env, ...vars }) as Env;

describe("loadDexSettings", () => {
  it("refuses the placeholder account id wrangler.jsonc ships", () => {
    const result = loadDexSettings(withVars({ CF_ACCOUNT_ID: "replace-with-your-account-id" }));
    expect(result).toEqual({ ok: false, error: "CF_ACCOUNT_ID: is still the placeholder from wrangler.jsonc: set your account id" });
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

describe("settings, once per isolate", () => {
  it("checks the same variables once, and again when one changes, even in another env object", () => {
    const first = loadDexSettings(withVars({ MAX_COMMANDS_PER_MINUTE: "31" }));
    expect(loadDexSettings(withVars({ MAX_COMMANDS_PER_MINUTE: "31" }))).toBe(first);
    const changed = loadDexSettings(withVars({ MAX_COMMANDS_PER_MINUTE: "32" }));
    expect(changed).not.toBe(first);
    expect(changed.ok && changed.settings.maxCommandsPerMinute).toBe(32);
  });

  it("gives every caller the same compiled configuration while the variables stay the same", () => {
    const first = loadConfig(env, SOURCE_NAMES);
    const second = loadConfig({ ...env }, SOURCE_NAMES);
    expect(first.ok && second.ok).toBe(true);
    expect(first.ok && second.ok && second.config).toBe(first.ok && first.config);
    const otherRules = loadConfig(withVars({ RULES: JSON.stringify([{ name: "only", command: { type: "warp-diag" } }]) }), SOURCE_NAMES);
    expect(otherRules.ok && otherRules.config.rules.map((rule) => rule.name)).toEqual(["only"]);
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
