import { versionedReader, type Read } from "../model/versioned";
import * as z from "../model/zod";
import type { DeliveryRecord } from "./delivery-record";
import { DELIVERY_STATES } from "./delivery-state";

/** Prefix of the index keys: one per delivery, named so that KV lists the newest first. */
export const DELIVERY_INDEX_PREFIX = "delivery-index:";
/**
 * The version of the index entry this release writes, kept in the entry's metadata beside
 * its fields. Release 0.1.0's entry names none (version 1) and has the same fields.
 */
export const DELIVERY_INDEX_VERSION = 2;
/** KV refuses list metadata over 1024 bytes once serialized; the index keeps well under it. */
const MAX_METADATA_BYTES = 900;
/** Inverted timestamps are this many digits: any millisecond time until the year 2286. */
const TIME_DIGITS = 13;
const LATEST_MS = 10 ** TIME_DIGITS - 1;

/** What the listing filters on, kept in the index key's metadata so no record is read to filter. */
export const DeliveryIndexEntry = z.object({
  /** Record id (`delivery:<id>`). */
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  state: z.enum(DELIVERY_STATES),
  received_at: z.string(),
  /** Every outcome its decisions recorded. */
  outcomes: z.array(z.string()),
  /** Device ids its decisions name; `devices_truncated` when they did not all fit. */
  devices: z.array(z.string()),
  devices_truncated: z.optional(z.literal(true)),
});
export type DeliveryIndexEntry = z.infer<typeof DeliveryIndexEntry>;

/** An index entry's metadata, of any version this release knows, as the current entry. */
export const readIndexEntry: (metadata: unknown) => Read<DeliveryIndexEntry> = versionedReader("delivery index entry", {
  1: DeliveryIndexEntry,
  [DELIVERY_INDEX_VERSION]: DeliveryIndexEntry,
});

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

/** The delivery an index key stands for: what the listing can name even when it cannot read the entry. */
export function deliveryIdOfIndexKey(key: string): string {
  return key.slice(DELIVERY_INDEX_PREFIX.length + TIME_DIGITS + 1);
}

/** The metadata of the record's index key, in this release's version. */
export function indexEntryOf(record: DeliveryRecord): DeliveryIndexEntry & { version: typeof DELIVERY_INDEX_VERSION } {
  const entry: DeliveryIndexEntry & { version: typeof DELIVERY_INDEX_VERSION } = {
    version: DELIVERY_INDEX_VERSION,
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
