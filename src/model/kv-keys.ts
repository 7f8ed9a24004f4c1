import { sha256Hex } from "../crypto/hmac";

/**
 * The relay's KV keyspace: every key is built here, from these prefixes, so a key's shape
 * lives in one place and no two kinds of entry can collide. (The listed kinds, whose keys
 * sort by time, keep theirs beside their records: `delivery-index:`, `dead-letter:`.)
 *
 * Every entry carries the version of its shape, and each kind is read through one reader
 * that knows every version since release 0.1.0 (which wrote none: version 1):
 * - `delivery:` the audit record, `version` in the value (record/delivery-record.ts);
 * - `delivery-index:` its index entry, `version` in the metadata (record/delivery-index.ts);
 * - `dead-letter:` `version` in the value and in the summary metadata (record/dead-letters.ts);
 * - `redelivery:` the bare delivery id, `version` in the metadata (receive/redeliveries.ts);
 * - `devices:` the bare list of devices, `version` in the metadata (resolve/device-directory.ts).
 * A bare value keeps its version in the metadata so that the release before reads it as it
 * always did after a rollback.
 */
export const DELIVERY_PREFIX = "delivery:";
export const REDELIVERY_PREFIX = "redelivery:";
export const DEVICES_PREFIX = "devices:";
export const DEVICE_LIST_PREFIX = "device-list:";
export const FLEET_PREFIX = "fleet:";

/** The audit record of one delivery (or one part of a split delivery). */
export function deliveryKey(deliveryId: string): string {
  return `${DELIVERY_PREFIX}${deliveryId}`;
}

/** A sender's redelivery id (PagerDuty's `X-Webhook-Id`), per source: which delivery it first came in. */
export function redeliveryKey(source: string, senderKey: string): string {
  return `${REDELIVERY_PREFIX}${source}:${senderKey}`;
}

/**
 * One device search of one account, cached. Hashed: a search term is an email or a host
 * name, which KV should not hold in its key, and may be longer than a key allows.
 */
export async function devicesKey(accountId: string, term: string): Promise<string> {
  return `${DEVICES_PREFIX}${await sha256Hex(`${accountId}\n${term}`)}`;
}

/** The account's whole device list (or the part of it read so far), cached. */
export function deviceListKey(accountId: string): string {
  return `${DEVICE_LIST_PREFIX}${accountId}`;
}

/** What the relay last learned of the account's fleet: its size, and whether a list read of it holds still. */
export function fleetKey(accountId: string): string {
  return `${FLEET_PREFIX}${accountId}`;
}
