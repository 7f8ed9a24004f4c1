import type { RelayConfig } from "../config/settings";
import { decisionFor, planDeliveries } from "../consume/plan";
import { createPipeline, planContext } from "../consume/pipeline";
import type { DeliveryMessage } from "../consume/delivery-message";
import type { Decision } from "../record/decision";

/**
 * What the relay would do with a delivery, without doing it: rules are matched and devices
 * looked up (reads only), duplicates and cooldowns checked; nothing is sent, queued or written.
 */
export async function dryRun(env: Env, config: RelayConfig, delivery: DeliveryMessage, now: () => Date): Promise<Decision[]> {
  const pipeline = createPipeline(env, config, now, { readOnly: true });
  const plan = await planDeliveries([delivery], planContext(pipeline, config, await pipeline.rateBudget.read()));
  const decisions = plan.decisions[0] ?? [];
  for (const intent of plan.intents) {
    const reason = intent.claimedSince
      ? "an earlier attempt may have created it; the consumer would check before creating"
      : "every check passed";
    decisions.push(decisionFor(intent, "would-create", reason));
  }
  return decisions.sort((a, b) => a.alert - b.alert);
}
