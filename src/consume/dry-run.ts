import type { RelayConfig } from "../config/settings";
import { Delivery } from "./delivery";
import type { DeliveryMessage } from "../model/delivery-message";
import { previewPlanned } from "./execute";
import { createPipeline } from "./pipeline";
import { planDeliveries } from "./plan";
import type { Decision } from "../model/decision";

/** A dry run is never queued: its delivery answers no queue. */
const NO_QUEUE = { id: "dry-run", attempts: 1, ack() {}, retry() {} };

/**
 * What the relay would do with a delivery, without doing it: rules are matched and devices
 * looked up (reads only, within the API budget), and the command ledger says what it would
 * answer; nothing is sent, queued or written.
 */
export async function dryRun(env: Env, config: RelayConfig, message: DeliveryMessage): Promise<Decision[]> {
  const pipeline = createPipeline(env, config, { readOnly: true });
  const delivery = new Delivery(message, NO_QUEUE);
  await previewPlanned(await planDeliveries([delivery], pipeline), pipeline.ledger);
  return delivery.decisions.sort((a, b) => a.alert - b.alert);
}
