import { AlertTarget, CaptureRequest } from "../model/alert";
import type { DeliveryMessage } from "../model/delivery-message";
import { Decision } from "../model/decision";
import { deliveryKey } from "../model/kv-keys";
import { versionedReader, type Read } from "../model/versioned";
import * as z from "../model/zod";
import { deliveryIndexKey, indexEntryOf } from "./delivery-index";
import { DELIVERY_STATES, type DeliveryState } from "./delivery-state";

/** How long the audit trail keeps a delivery. */
export const DELIVERY_RECORD_TTL_SECONDS = 7 * 24 * 3600;
/**
 * The version of the record this release writes, kept in the stored record beside its
 * fields. Release 0.1.0's record names none (version 1) and has the same fields.
 */
export const DELIVERY_RECORD_VERSION = 2;

export type { DeliveryState } from "./delivery-state";

/** A capture on demand as the audit trail keeps it: who asked, where, for which rule, target and incident. */
/** A capture on demand as the audit trail keeps it: who asked, for what, about which incident. */
export const RecordedRequest = z.extend(CaptureRequest, { target: AlertTarget, incident_id: z.optional(z.string()) });
export type RecordedRequest = z.infer<typeof RecordedRequest>;

/** The audit record of one delivery: what came in, and what became of each alert. */
export const DeliveryRecord = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  received_at: z.string(),
  updated_at: z.string(),
  attempts: z.number(),
  state: z.enum(DELIVERY_STATES),
  alerts: z.array(
    z.object({
      episode: z.string(),
      title: z.string(),
      severity: z.optional(z.string()),
      status: z.string(),
      firing: z.boolean(),
      request: z.optional(RecordedRequest),
    }),
  ),
  decisions: z.array(Decision),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecord>;

/**
 * A stored record of any version this release knows, as the current shape (the version is
 * storage's, not the record's: it is dropped on reading and written by `saveDeliveryRecord`).
 */
export const readStoredDeliveryRecord: (stored: unknown) => Read<DeliveryRecord> = versionedReader("delivery record", {
  1: DeliveryRecord,
  [DELIVERY_RECORD_VERSION]: DeliveryRecord,
});

/** Builds the record of an attempt. Each attempt rewrites the whole record: the latest is the truth. */
export function buildDeliveryRecord(message: DeliveryMessage, decisions: Decision[], state: DeliveryState, attempts: number, now: Date): DeliveryRecord {
  return {
    id: message.delivery_id,
    source: message.source,
    received_at: message.received_at,
    updated_at: now.toISOString(),
    attempts,
    state,
    alerts: message.alerts.map((a) => ({
      episode: a.episode,
      title: a.title,
      severity: a.severity,
      status: a.status,
      firing: a.firing,
      ...(a.request ? { request: { ...a.request, target: a.target, ...(a.refs?.incident_id ? { incident_id: a.refs.incident_id } : {}) } } : {}),
    })),
    decisions: [...decisions].sort((a, b) => a.alert - b.alert),
  };
}

/**
 * Writes the record in this release's version, whatever version it was read in, and its
 * index entry that lets operators list deliveries newest first.
 */
export async function saveDeliveryRecord(kv: KVNamespace, record: DeliveryRecord): Promise<void> {
  const options = { expirationTtl: DELIVERY_RECORD_TTL_SECONDS };
  await Promise.all([
    kv.put(deliveryKey(record.id), JSON.stringify({ version: DELIVERY_RECORD_VERSION, ...record }), options),
    kv.put(deliveryIndexKey(record.received_at, record.id), "", { ...options, metadata: indexEntryOf(record) }),
  ]);
}

/** The record of delivery `id`: null when there is none, or why this release cannot read the one there is. */
export async function readDeliveryRecord(kv: KVNamespace, id: string): Promise<Read<DeliveryRecord> | null> {
  const stored = await kv.get<unknown>(deliveryKey(id), "json");
  return stored === null ? null : readStoredDeliveryRecord(stored);
}
