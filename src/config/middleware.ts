import { createMiddleware } from "hono/factory";
import { misconfigured } from "../model/http-errors";
import type { Operator } from "../model/operator";
import { logProblem } from "../record/log";
import type { LedgerSettings } from "./ledger-settings";
import { loadConfig, loadDexSettings, loadLedgerSettings, type DexSettings, type RelayConfig } from "./settings";

/**
 * The relay's configuration as one request sees it. Each part is checked when a route first
 * asks for it, and once per isolate for the same variables (src/config/settings.ts).
 */
export interface RequestConfig {
  /** Everything the pipeline needs, rules included: what the alert and capture routes work with. */
  relay(): RelayConfig;
  /** The DEX settings alone: what the operators' routes need, whatever state RULES is in. */
  dex(): DexSettings;
  /** What the command ledger works with, handed to it with every call that sets it working. */
  ledger(): LedgerSettings;
}

/**
 * What every route of the relay finds in its context: `config`, and on the operators' routes
 * `operator`, set by `operatorAuth()` (absent on the others, which never read it).
 */
export type AppEnv = { Bindings: Env; Variables: { config: RequestConfig; operator: Operator } };

export interface ConfigOptions {
  /** The names RULES may use in `match.source` and `trust`. */
  sources: readonly string[];
}

/**
 * Puts the configuration in `c.var.config`. It is read when a route first asks, not before
 * the route's own checks: a caller refused with 401, 404 or 415 never learns whether the
 * configuration is broken. An invalid configuration is a 500, so senders retry until it is
 * fixed, and says what is wrong.
 */
export function relayConfig(options: ConfigOptions) {
  return createMiddleware<AppEnv>(async function relayConfig(c, next) {
    c.set("config", {
      relay() {
        const loaded = loadConfig(c.env, options.sources);
        if (!loaded.ok) {
          logProblem("config-invalid", { error: loaded.error });
          throw invalid(loaded.error);
        }
        return loaded.config;
      },
      dex() {
        const loaded = loadDexSettings(c.env);
        if (!loaded.ok) throw invalid(loaded.error);
        return loaded.settings;
      },
      ledger() {
        const loaded = loadLedgerSettings(c.env);
        if (!loaded.ok) throw invalid(loaded.error);
        return loaded.settings;
      },
    });
    await next();
  });
}

function invalid(error: string) {
  return misconfigured(`relay configuration is invalid: ${error}`);
}
