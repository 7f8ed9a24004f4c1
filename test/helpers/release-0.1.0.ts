import { env } from "cloudflare:workers";
import deadLetter from "../fixtures/release-0.1.0/dead-letter.json";
import deliveryIndexEntry from "../fixtures/release-0.1.0/delivery-index-entry.json";
import deliveryRecord from "../fixtures/release-0.1.0/delivery-record.json";
import deviceCache from "../fixtures/release-0.1.0/device-cache.json";
import queueMessage from "../fixtures/release-0.1.0/queue-message.json";
import redelivery from "../fixtures/release-0.1.0/redelivery.json";

/** One KV entry as a fixture keeps it: a JSON value as JSON, a text value as a string. */
export interface KvEntry {
  key: string;
  value: unknown;
  metadata?: unknown;
}

/**
 * What release 0.1.0 left behind (test/fixtures/release-0.1.0/README.md): the delivery of
 * `queueMessage`, retrying after a failed device lookup, with its index entry; the same
 * delivery dead-lettered; Jane's cached device search; a PagerDuty redelivery id.
 */
export const releaseOne = { queueMessage, deliveryRecord, deliveryIndexEntry, deadLetter, deviceCache, redelivery } as const;

/**
 * Puts an entry back into KV byte for byte as it was written: a JSON value serialized as
 * `JSON.stringify` wrote it (same key order, no spaces), a text value as it is.
 */
export async function putAsWritten(entry: KvEntry): Promise<void> {
  const value = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
  await env.RELAY_KV.put(entry.key, value, entry.metadata === undefined ? {} : { metadata: entry.metadata });
}

/** An entry's value and metadata as they stand in KV now, the value parsed when it is JSON. */
export async function storedEntry(key: string): Promise<{ value: any; metadata: any } | null> {
  const { value, metadata } = await env.RELAY_KV.getWithMetadata(key);
  if (value === null) return null;
  try {
    return { value: JSON.parse(value), metadata };
  } catch {
    return { value, metadata };
  }
}

/** The KV keys under `prefix`, with their metadata. */
export async function keysUnder(prefix: string) {
  return (await env.RELAY_KV.list({ prefix })).keys.map(({ name, metadata }) => ({ name, metadata }));
}
