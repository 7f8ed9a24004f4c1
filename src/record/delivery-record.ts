import type { AlertTarget, CaptureRequest } from "../model/alert";
import type { DeliveryMessage } from "../model/delivery-message";
import type { Decision } from "../model/decision";
import { deliveryKey } from "../model/kv-keys";
import { deliveryIndexKey, indexEntryOf } from "./delivery-index";

/** How long the audit trail keeps a delivery. */
export const DELIVERY_RECORD_TTL_SECONDS = 7 * 24 * 3600;

/**
 * `done`: every alert has its final decision. `in-progress`: acknowledged, with commands the
 * command ledger is still sending. `retrying`: the queue brings it back. `dead-lettered`:
 * out of attempts.
 */
export type DeliveryState = "done" | "in-progress" | "retrying" | "dead-lettered";

/** The audit record of one delivery: what came in, and what became of each alert. */
export interface DeliveryRecord {
  id: string;
  source: string;
  received_at: string;
  updated_at: string;
  attempts: number;
  state: DeliveryState;
  alerts: Array<{ episode: string; title: string; severity?: string; status: string; firing: boolean; request?: RecordedRequest }>;
  decisions: Decision[];
}

/** A capture on demand as the audit trail keeps it: who asked, where, for which rule, target and incident. */
export type RecordedRequest = CaptureRequest & { target: AlertTarget; incident_id?: string };

/** Builds the record of an attempt. Each attempt rewrites the whole record: the latest is the truth. */
export function buildDeliveryRecord(
  message: DeliveryMessage,
  decisions: Decision[],
  state: DeliveryState,
  attempts: number,
  now: Date,
): DeliveryRecord {
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

/** Writes the record, and its index entry that lets operators list deliveries newest first. */
export async function saveDeliveryRecord(kv: KVNamespace, record: DeliveryRecord): Promise<void> {
  const options = { expirationTtl: DELIVERY_RECORD_TTL_SECONDS };
  await Promise.all([
    kv.put(deliveryKey(record.id), JSON.stringify(record), options),
    kv.put(deliveryIndexKey(record.received_at, record.id), "", { ...options, metadata: indexEntryOf(record) }),
  ]);
}

export async function readDeliveryRecord(kv: KVNamespace, id: string): Promise<DeliveryRecord | null> {
  return kv.get<DeliveryRecord>(deliveryKey(id), "json");
}
