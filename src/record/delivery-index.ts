import type { DeliveryRecord, DeliveryState } from "./delivery-record";

/** Prefix of the index keys: one per delivery, named so that KV lists the newest first. */
export const DELIVERY_INDEX_PREFIX = "delivery-index:";
/** KV refuses list metadata over 1024 bytes once serialized; the index keeps well under it. */
const MAX_METADATA_BYTES = 900;
/** Inverted timestamps are this many digits: any millisecond time until the year 2286. */
const TIME_DIGITS = 13;
const LATEST_MS = 10 ** TIME_DIGITS - 1;

/** What the listing filters on, kept in the index key's metadata so no record is read to filter. */
export interface DeliveryIndexEntry {
  /** Record id (`delivery:<id>`). */
  id: string;
  source: string;
  state: DeliveryState;
  received_at: string;
  /** Every outcome its decisions recorded. */
  outcomes: string[];
  /** Device ids its decisions name; `devices_truncated` when they did not all fit. */
  devices: string[];
  devices_truncated?: true;
}

/**
 * `delivery-index:<inverted received time>:<id>`: KV lists keys in byte order, so the most
 * recent delivery comes first. The name depends only on the delivery, so every attempt's
 * record rewrites the same index key.
 */
export function deliveryIndexKey(receivedAt: string, id: string): string {
  const inverted = LATEST_MS - Math.min(LATEST_MS, Math.max(0, Date.parse(receivedAt) || 0));
  return `${DELIVERY_INDEX_PREFIX}${String(inverted).padStart(TIME_DIGITS, "0")}:${id}`;
}

/** The received time an index key stands for, to stop a `since` listing early. */
export function receivedAtOfIndexKey(key: string): number {
  return LATEST_MS - Number(key.slice(DELIVERY_INDEX_PREFIX.length, DELIVERY_INDEX_PREFIX.length + TIME_DIGITS));
}

export function indexEntryOf(record: DeliveryRecord): DeliveryIndexEntry {
  const entry: DeliveryIndexEntry = {
    id: record.id,
    source: record.source,
    state: record.state,
    received_at: record.received_at,
    outcomes: [...new Set(record.decisions.map((d) => d.outcome))],
    devices: [],
  };
  for (const device of new Set(record.decisions.flatMap((d) => (d.device_id ? [d.device_id] : [])))) {
    entry.devices.push(device);
    if (JSON.stringify(entry).length > MAX_METADATA_BYTES) {
      entry.devices.pop();
      entry.devices_truncated = true;
      break;
    }
  }
  return entry;
}
