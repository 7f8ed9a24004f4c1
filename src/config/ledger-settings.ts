import type { ChannelSettings } from "./channels";
import type { DexSettings } from "./settings";

/**
 * What the command ledger works with: how to reach the DEX API, the limits on what it sends,
 * and where its reports go. The Worker reads them (once per isolate, like the rest of the
 * configuration: `loadLedgerSettings` in ./settings.ts) and hands them to the ledger with
 * every call that sets it working, so the configuration has one reader, and a copy of `env`
 * with other values reaches the ledger too.
 */
export interface LedgerSettings {
  dex: DexSettings;
  channels: ChannelSettings;
}

export type LedgerSettingsResult = { ok: true; settings: LedgerSettings } | { ok: false; error: string };

let last: LedgerSettings | undefined;

/** The ledger's settings, the same object for as long as the DEX settings and the channels it is made of are. */
export function ledgerSettingsOf(dex: DexSettings, channels: ChannelSettings): LedgerSettings {
  if (last?.dex !== dex || last.channels !== channels) last = { dex, channels };
  return last;
}
