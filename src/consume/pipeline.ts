import { ClaimStore } from "../claim/claim-store";
import { RateBudget, type BudgetState } from "../claim/rate-budget";
import type { RelayConfig } from "../config/settings";
import { DexClient } from "../dispatch/dex/client";
import { createDeviceDirectory, type DeviceDirectory } from "../resolve/device-directory";
import type { AlertTarget, NormalizedAlert } from "../sources/alert";
import { pagerDutyEnricher } from "../sources/pagerduty/enrich";
import type { PlanContext } from "./plan";

/** The collaborators one consumer batch (or one dry run) works with. */
export interface Pipeline {
  api: DexClient;
  directory: DeviceDirectory;
  store: ClaimStore;
  rateBudget: RateBudget;
  /** Finds the target of an alert that names none, where its source can say more. */
  enrich?: (alert: NormalizedAlert) => Promise<AlertTarget | undefined>;
}

export function createPipeline(env: Env, config: RelayConfig, now: () => Date, options: { readOnly?: boolean } = {}): Pipeline {
  const api = new DexClient({ baseUrl: config.dexApiBase, accountId: config.accountId, token: config.dexApiToken });
  return {
    api,
    directory: createDeviceDirectory(api, env.RELAY_KV, config.accountId, options),
    store: new ClaimStore(env.RELAY_KV, config.idempotencyTtlSeconds),
    rateBudget: new RateBudget(env.RELAY_KV, now),
    enrich: oncePerEpisode(pagerDutyEnricher(env)),
  };
}

/** What planning needs from the pipeline and the configuration, with the budget as read for this batch. */
export function planContext(pipeline: Pipeline, config: RelayConfig, budget: BudgetState): PlanContext {
  return {
    rules: config.rules,
    directory: pipeline.directory,
    store: pipeline.store,
    budget,
    maxCommandsPerMinute: config.maxCommandsPerMinute,
    enrich: pipeline.enrich,
  };
}

/** Several rules may need the same alert's target: ask its source once per batch. */
function oncePerEpisode(enrich: Pipeline["enrich"]): Pipeline["enrich"] {
  if (!enrich) return undefined;
  const asked = new Map<string, Promise<AlertTarget | undefined>>();
  return (alert) => {
    let pending = asked.get(alert.episode);
    if (!pending) asked.set(alert.episode, (pending = enrich(alert)));
    return pending;
  };
}
