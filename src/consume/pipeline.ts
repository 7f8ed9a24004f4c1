import { ClaimStore } from "../claim/claim-store";
import { RateBudget } from "../claim/rate-budget";
import type { RelayConfig } from "../config/settings";
import { DexClient } from "../dispatch/dex/client";
import { createDeviceDirectory, type DeviceDirectory } from "../resolve/device-directory";

/** The collaborators one consumer batch (or one dry run) works with. */
export interface Pipeline {
  api: DexClient;
  directory: DeviceDirectory;
  store: ClaimStore;
  rateBudget: RateBudget;
}

export function createPipeline(env: Env, config: RelayConfig, now: () => Date, options: { readOnly?: boolean } = {}): Pipeline {
  const api = new DexClient({ baseUrl: config.dexApiBase, accountId: config.accountId, token: config.dexApiToken });
  return {
    api,
    directory: createDeviceDirectory(api, env.RELAY_KV, config.accountId, options),
    store: new ClaimStore(env.RELAY_KV, config.idempotencyTtlSeconds),
    rateBudget: new RateBudget(env.RELAY_KV, now),
  };
}
