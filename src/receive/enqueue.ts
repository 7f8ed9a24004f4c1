import type { DeliveryMessage } from "../model/delivery-message";

/**
 * Queues take messages of at most 128 KB. A delivery larger than this (a big Alertmanager
 * group) is split into parts of whole alerts, each its own delivery in the audit trail.
 */
export const MAX_MESSAGE_BYTES = 100 * 1024;

const encoder = new TextEncoder();
const sizeOf = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/** The delivery as one message, or as parts `<id>`, `<id>.2`, `<id>.3`… that each fit. */
export function splitDelivery(message: DeliveryMessage): DeliveryMessage[] {
  if (sizeOf(message) <= MAX_MESSAGE_BYTES) return [message];
  const parts: DeliveryMessage[] = [];
  let current: DeliveryMessage = { ...message, alerts: [] };
  let size = sizeOf(current);
  for (const alert of message.alerts) {
    const alertSize = sizeOf(alert) + 1;
    if (current.alerts.length > 0 && size + alertSize > MAX_MESSAGE_BYTES) {
      parts.push(current);
      current = { ...message, delivery_id: `${message.delivery_id}.${parts.length + 1}`, alerts: [] };
      size = sizeOf(current);
    }
    current.alerts.push(alert);
    size += alertSize;
  }
  parts.push(current);
  return parts;
}

/** True when every part fits in a queue message: one alert alone may not, whatever the split. */
export function fitsTheQueue(parts: readonly DeliveryMessage[]): boolean {
  return parts.every((part) => sizeOf(part) <= MAX_MESSAGE_BYTES);
}

/** Sends every part; a failure part-way is safe to retry, since the consumer drops repeated episodes. */
export async function enqueueParts(queue: Queue, parts: readonly DeliveryMessage[]): Promise<void> {
  for (const part of parts) await queue.send(part, { contentType: "json" });
}
