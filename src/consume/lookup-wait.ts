import { USEFUL_WAIT_MS } from "../ledger/admission";
import { API_BURST, API_REFILL_PER_SECOND } from "../ledger/api-budget";
import type { DeliveryMessage } from "../model/delivery-message";
import type { Delivery } from "./delivery";

/**
 * When device lookups of a delivery wait for the API budget: a continuation of the delivery
 * that names the waiting alerts, queued for when the budget has room for them, or, once no
 * capture could start while it is still useful, an `expired` decision for each. Usefulness is
 * counted from the delivery's `received_at`, with the window the per-minute cap uses.
 */
export function scheduleLookups(delivery: Delivery, now: Date): { body: DeliveryMessage; delaySeconds: number } | undefined {
  const wait = delivery.budgetWait;
  if (!wait) return undefined;
  // A received_at that is not a time is read as long past: such a delivery does not wait without end.
  const usefulUntil = (Date.parse(delivery.body.received_at) || 0) + USEFUL_WAIT_MS;
  if (now.getTime() + wait.seconds * 1000 > usefulUntil) {
    delivery.expireWaiting(
      `the DEX API budget had no room for its device lookup within ${USEFUL_WAIT_MS / 60_000} minutes of the alert (${wait.seconds} s more to wait at ${now.toISOString()})`,
    );
    return undefined;
  }
  // Back when the budget has refilled for the calls waiting (a full bucket at most), not one
  // call at a time: each pass costs reads and writes of its own.
  const refill = Math.ceil(Math.min(wait.calls, API_BURST) / API_REFILL_PER_SECOND);
  const delaySeconds = Math.max(wait.seconds, Math.min(refill, Math.floor((usefulUntil - now.getTime()) / 1000)));
  delivery.comesBackAt(new Date(now.getTime() + delaySeconds * 1000));
  return { body: delivery.continuation(), delaySeconds };
}
