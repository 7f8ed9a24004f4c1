/**
 * `done`: every alert has its final decision. `in-progress`: acknowledged, with commands the
 * command ledger is still sending. `retrying`: the queue brings it back. `dead-lettered`:
 * out of attempts.
 */
export const DELIVERY_STATES = ["done", "in-progress", "retrying", "dead-lettered"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
