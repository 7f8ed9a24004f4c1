import { formatIssues } from "../model/schema-issues";
import * as z from "../model/zod";
import { readSecret } from "./secrets";
import { loadRules, type CompiledRule } from "./load-rules";
import { readChannels } from "./channels";
import { ledgerSettingsOf, type LedgerSettings, type LedgerSettingsResult } from "./ledger-settings";
import { oncePerVariables } from "./once-per-variables";

/** Placeholders wrangler.jsonc ships with (`replace-with-your-account-id`): a deploy that still has one cannot work. */
export const PLACEHOLDER_PREFIX = "replace-with-";
export const DEFAULT_DEX_API_BASE = "https://api.cloudflare.com/client/v4";
export const DEFAULT_IDEMPOTENCY_TTL_HOURS = 48;
export const DEFAULT_MAX_COMMANDS_PER_MINUTE = 30;

/** What the command ledger needs: how to reach the DEX API and the limits on what it sends. */
export interface DexSettings {
  accountId: string;
  dexApiBase: string;
  dexApiToken: string;
  idempotencyTtlSeconds: number;
  maxCommandsPerMinute: number;
}

/**
 * How device lookups read the DEX API (`DEVICE_LOOKUP`): `auto` takes, per batch, whichever
 * of one search per device or one read of the whole device list costs fewer calls, and keeps
 * the list a minute in KV; `search` always searches device by device, so every device's name
 * and email is never held in KV at once.
 */
export const DEVICE_LOOKUPS = ["auto", "search"] as const;
export type DeviceLookup = (typeof DEVICE_LOOKUPS)[number];

/** Everything the pipeline needs from the environment, checked once. */
export interface RelayConfig extends DexSettings {
  rules: CompiledRule[];
  deviceLookup: DeviceLookup;
  /** What the consumer hands the command ledger with its commands (./ledger-settings.ts). */
  ledger: LedgerSettings;
}

export type ConfigResult = { ok: true; config: RelayConfig } | { ok: false; error: string };
export type DexSettingsResult = { ok: true; settings: DexSettings } | { ok: false; error: string };

/** `schema` after `prepare` has made the raw variable into what it checks. */
function prepared<T extends z.ZodMiniType>(prepare: (value: unknown) => unknown, schema: T) {
  return z.pipe(z.transform(prepare), schema);
}

const numberVar = (fallback: number, min: number, max: number) =>
  prepared((v) => (v === undefined || v === "" ? fallback : typeof v === "string" ? Number(v) : v), z.number().check(z.int(), z.gte(min), z.lte(max)));

const VarsSchema = z.object({
  CF_ACCOUNT_ID: z.string().check(
    z.trim(),
    z.minLength(1, "is not set"),
    // wrangler.jsonc ships a placeholder: a relay deployed with it would call the API for nobody.
    z.refine((id) => !id.startsWith(PLACEHOLDER_PREFIX), "is still the placeholder from wrangler.jsonc: set your account id"),
  ),
  DEX_API_BASE: prepared((v) => v || DEFAULT_DEX_API_BASE, z.url({ protocol: /^https?$/ })),
  IDEMPOTENCY_TTL_HOURS: numberVar(DEFAULT_IDEMPOTENCY_TTL_HOURS, 1, 24 * 30),
  MAX_COMMANDS_PER_MINUTE: numberVar(DEFAULT_MAX_COMMANDS_PER_MINUTE, 1, 240),
});

/**
 * Reads and checks the relay's configuration, once per isolate: the result is kept for as
 * long as the isolate lives and the variables it was read from are the same, so a request
 * pays for checking them and compiling the rules only once. A broken configuration is
 * reported with the path of what is wrong; callers answer 500 so that senders keep retrying
 * until it is fixed.
 */
export function loadConfig(env: Env, knownSources: readonly string[]): ConfigResult {
  const dex = loadDexSettings(env);
  if (!dex.ok) return dex;
  const deviceLookup = (env.DEVICE_LOOKUP || "auto") as DeviceLookup;
  if (!DEVICE_LOOKUPS.includes(deviceLookup)) return { ok: false, error: `DEVICE_LOOKUP: must be one of ${DEVICE_LOOKUPS.join(", ")}` };
  const rules = rulesOnce(env.RULES, knownSources);
  if (!rules.ok) return rules;
  const ledger = loadLedgerSettings(env);
  if (!ledger.ok) return ledger;
  if (
    cachedConfig?.dex !== dex.settings ||
    cachedConfig.rules !== rules.rules ||
    cachedConfig.config.deviceLookup !== deviceLookup ||
    cachedConfig.config.ledger !== ledger.settings
  ) {
    cachedConfig = { dex: dex.settings, rules: rules.rules, config: { ...dex.settings, rules: rules.rules, deviceLookup, ledger: ledger.settings } };
  }
  return { ok: true, config: cachedConfig.config };
}

let cachedConfig: { dex: DexSettings; rules: CompiledRule[]; config: RelayConfig } | undefined;

let cachedRules: { raw: unknown; knownSources: readonly string[]; result: ReturnType<typeof loadRules> } | undefined;

function rulesOnce(raw: unknown, knownSources: readonly string[]): ReturnType<typeof loadRules> {
  const cached = cachedRules;
  if (cached && cached.raw === raw && cached.knownSources === knownSources) return cached.result;
  const result = loadRules(raw, knownSources);
  cachedRules = { raw, knownSources, result };
  return result;
}

/**
 * The account id alone, when it is set and not wrangler.jsonc's placeholder: what the relay's
 * counters need, so that its numbers stay readable while another setting is broken.
 */
export function accountIdOf(env: Env): string | undefined {
  const accountId = env.CF_ACCOUNT_ID?.trim();
  return accountId && !accountId.startsWith(PLACEHOLDER_PREFIX) ? accountId : undefined;
}

/** What the command ledger works with (./ledger-settings.ts), read once per isolate for the same variables. */
export function loadLedgerSettings(env: Env): LedgerSettingsResult {
  const dex = loadDexSettings(env);
  if (!dex.ok) return dex;
  return { ok: true, settings: ledgerSettingsOf(dex.settings, readChannels(env).settings) };
}

let warnedLegacyName = false;

/** The DEX token, under its name or its former one. */
export function dexApiTokenOf(env: Env): string | undefined {
  return readSecret(env, "DEX_API_TOKEN") ?? legacyDexApiToken(env);
}

/**
 * The DEX token's former name. `CF_API_TOKEN` is also wrangler's own (deprecated) login
 * variable, so a shell or CI that exported it logged wrangler in with the DEX token; it is
 * still read when `DEX_API_TOKEN` is unset, with one warning per isolate.
 */
function legacyDexApiToken(env: Env): string | undefined {
  const value = (env as { CF_API_TOKEN?: unknown }).CF_API_TOKEN;
  const token = typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  if (token && !warnedLegacyName) {
    warnedLegacyName = true;
    console.warn(JSON.stringify({ event: "config-deprecated", setting: "CF_API_TOKEN", use: "DEX_API_TOKEN" }));
  }
  return token;
}

/** The variables the DEX settings are read from: the same values give the same settings. */
const DEX_VARIABLES = ["CF_ACCOUNT_ID", "DEX_API_BASE", "IDEMPOTENCY_TTL_HOURS", "MAX_COMMANDS_PER_MINUTE", "DEX_API_TOKEN", "CF_API_TOKEN"] as const;

/**
 * The DEX half of the configuration, without the rules: what the command ledger and the
 * operators' routes read. Checked once per isolate for the same variables (a test's copy of
 * `env` with other values is checked again).
 */
export const loadDexSettings: (env: Env) => DexSettingsResult = oncePerVariables(DEX_VARIABLES, (env) => readDexSettings(env));

function readDexSettings(env: Env): DexSettingsResult {
  const vars = VarsSchema.safeParse(env);
  if (!vars.success) return { ok: false, error: formatIssues(vars.error) };
  const dexApiToken = dexApiTokenOf(env);
  if (!dexApiToken) return { ok: false, error: "DEX_API_TOKEN: is not set" };
  return {
    ok: true,
    settings: {
      accountId: vars.data.CF_ACCOUNT_ID,
      dexApiBase: vars.data.DEX_API_BASE,
      dexApiToken,
      idempotencyTtlSeconds: vars.data.IDEMPOTENCY_TTL_HOURS * 3600,
      maxCommandsPerMinute: vars.data.MAX_COMMANDS_PER_MINUTE,
    },
  };
}
