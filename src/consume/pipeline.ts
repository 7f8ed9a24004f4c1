import type { RelayConfig } from "../config/settings";
import { DexClient } from "../dispatch/dex-client";
import { commandLedger, ledgerGate, type LedgerStub } from "../ledger/ledger-stub";
import { createDeviceDirectory } from "../resolve/device-directory";
import type { AlertTarget } from "../model/alert";
import { sourceNamed } from "../sources/registry";
import type { PlanContext } from "./plan";

/** The collaborators one consumer batch (or one dry run) works with. */
export interface Pipeline extends PlanContext {
  ledger: LedgerStub;
}

/**
 * Device searches go through the same API budget as everything the ledger sends, and a 429
 * on one of them stops every call; a dry run writes nothing, not even a cache entry. A
 * target the alert does not carry is asked of its source, when the source can tell.
 */
export function createPipeline(env: Env, config: RelayConfig, options: { readOnly?: boolean } = {}): Pipeline {
  const ledger = commandLedger(env, config.accountId);
  const api = new DexClient({ baseUrl: config.dexApiBase, accountId: config.accountId, token: config.dexApiToken, gate: ledgerGate(ledger) });
  return {
    rules: config.rules,
    ledger,
    directory: createDeviceDirectory(api, env.RELAY_KV, config.accountId, { ...options, strategy: config.deviceLookup }),
    enrich: oncePerEpisode((alert) => sourceNamed(alert.source)?.enrich?.(alert, env) ?? Promise.resolve(undefined)),
  };
}

/** Several rules may need the same alert's target: ask its source once per batch. */
function oncePerEpisode(enrich: NonNullable<PlanContext["enrich"]>): PlanContext["enrich"] {
  const asked = new Map<string, Promise<AlertTarget | undefined>>();
  return (alert) => {
    let pending = asked.get(alert.episode);
    if (!pending) asked.set(alert.episode, (pending = enrich(alert)));
    return pending;
  };
}
