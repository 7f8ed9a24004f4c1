import type { RelayConfig } from "../config/settings";
import { planDeliveries } from "../consume/plan";
import { createPipeline } from "../consume/pipeline";
import type { DeliveryMessage } from "../consume/delivery-message";
import type { Decision } from "../record/decision";

/**
 * What the relay would do with a delivery, without doing it: rules are matched and devices
 * looked up (reads only), duplicates and cooldowns checked; nothing is sent, queued or written.
 */
export async function dryRun(env: Env, config: RelayConfig, delivery: DeliveryMessage, now: () => Date): Promise<Decision[]> {
  const pipeline = createPipeline(env, config, now, { readOnly: true });
  const plan = await planDeliveries([delivery], {
    rules: config.rules,
    directory: pipeline.directory,
    store: pipeline.store,
    budget: await pipeline.rateBudget.read(),
    maxCommandsPerMinute: config.maxCommandsPerMinute,
    enrich: pipeline.enrich,
  });
  const decisions = plan.decisions[0] ?? [];
  for (const intent of plan.intents) {
    decisions.push({
      alert: intent.alert,
      episode: intent.episode,
      outcome: "would-create",
      reason: intent.claimedSince
        ? "an earlier attempt may have created it; the consumer would check before creating"
        : "every check passed",
      rule: intent.rule.name,
      type: intent.command.type,
      args: intent.command.args,
      device_id: intent.device.device_id,
      user_email: intent.device.user_email,
      ...(intent.device.registration_id ? { registration_id: intent.device.registration_id } : {}),
    });
  }
  return decisions.sort((a, b) => a.alert - b.alert);
}
