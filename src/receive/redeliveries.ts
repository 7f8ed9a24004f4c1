import { redeliveryKey } from "../model/kv-keys";
import { versionedReader, versionOf } from "../model/versioned";
import * as z from "../model/zod";

/** How long a sender's redelivery id is remembered (PagerDuty retries for 48 hours). */
const REDELIVERY_TTL_SECONDS = 48 * 3600;
/**
 * The version of a remembered redelivery id, kept in the entry's KV metadata: the value
 * stays the bare delivery id release 0.1.0 wrote (version 1), which it still reads after a
 * rollback.
 */
export const REDELIVERY_VERSION = 2;
const DeliveryId = z.string().check(z.minLength(1));
const readDeliveryId = versionedReader("redelivery id", { 1: DeliveryId, [REDELIVERY_VERSION]: DeliveryId });

/**
 * The delivery a sender's redelivery id first came in, if it was seen. One this release
 * cannot read counts as unseen: the delivery is queued again, and the command ledger's keys
 * keep it from creating anything twice.
 */
export async function firstDeliveryOf(kv: KVNamespace, source: string, senderKey: string): Promise<string | undefined> {
  const { value, metadata } = await kv.getWithMetadata(redeliveryKey(source, senderKey));
  if (value === null) return undefined;
  const read = readDeliveryId(value, versionOf(metadata));
  return read.success ? read.data : undefined;
}

/** Remembers which delivery a sender's redelivery id came in, in this release's version. */
export async function rememberDelivery(kv: KVNamespace, source: string, senderKey: string, deliveryId: string): Promise<void> {
  await kv.put(redeliveryKey(source, senderKey), deliveryId, { expirationTtl: REDELIVERY_TTL_SECONDS, metadata: { version: REDELIVERY_VERSION } });
}
