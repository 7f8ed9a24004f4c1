import { readChannels, type ChannelSettings } from "./channels";
import { loadDexSettings, type DexSettings } from "./settings";

/**
 * What the command ledger works with: how to reach the DEX API, the limits on what it sends,
 * and where its reports go. The Worker reads them (once per isolate, like the rest of the
 * configuration) and hands them to the ledger with every call that sets it working, so the
 * configuration has one reader, and a copy of `env` with other values reaches the ledger too.
 */
export interface LedgerSettings {
  dex: DexSettings;
  channels: ChannelSettings;
}

export type LedgerSettingsResult = { ok: true; settings: LedgerSettings } | { ok: false; error: string };

export function loadLedgerSettings(env: Env): LedgerSettingsResult {
  const dex = loadDexSettings(env);
  if (!dex.ok) return dex;
  return { ok: true, settings: { dex: dex.settings, channels: readChannels(env).settings } };
}
