import { describe, expect, it } from "vitest";
import { shippedConfig } from "../../test/helpers/wrangler-config";
import { MAX_DELIVERY_ATTEMPTS } from "./queue-consumer";

/** `max_retries` of the consumer of the queue the relay sends alerts to. */
function alertConsumerMaxRetries(): number | undefined {
  const { queues } = shippedConfig();
  const alertQueue = queues.producers?.find((producer) => producer.binding === "ALERT_QUEUE")?.queue;
  return queues.consumers?.find((consumer) => consumer.queue === alertQueue)?.max_retries;
}

describe("the consumer's retry budget", () => {
  it("gives up when the queue does: MAX_DELIVERY_ATTEMPTS is wrangler.jsonc's max_retries plus the first delivery", () => {
    const maxRetries = alertConsumerMaxRetries();
    expect(maxRetries).toBeTypeOf("number");
    expect(MAX_DELIVERY_ATTEMPTS).toBe(maxRetries! + 1);
  });
});
