import type { DeliveryView as LedgerView } from "../ledger/contract";
import { DELIVERY_INDEX_PREFIX, deliveryIdOfIndexKey, readIndexEntry, receivedAtOfIndexKey, type DeliveryIndexEntry } from "../record/delivery-index";
import { deliveryKey } from "../model/kv-keys";
import { readStoredDeliveryRecord, type DeliveryRecord } from "../record/delivery-record";
import { withLedger } from "./ledger-view";

/** KV list pages read for one answer at most: a rare filter answers short, with a cursor to go on. */
const MAX_INDEX_PAGES = 5;

export interface DeliveryQuery {
  source?: string;
  /** A decision outcome (`created`, `device-not-found`, ...). */
  outcome?: string;
  /** A device id some decision names. */
  device?: string;
  /** Only deliveries received at or after this time (ms). */
  since?: number;
  cursor?: string;
  limit: number;
}

export type DeliveryView = ReturnType<typeof withLedger>;

/** A delivery the listing found but cannot show: its record or index entry is not one this release reads. */
export interface UnreadableDelivery {
  delivery_id: string;
  error: string;
}

/**
 * Deliveries newest first, from the index that `saveDeliveryRecord` keeps beside every
 * record: filters are applied to the index entries' metadata, and only the records that
 * pass are read. The cursor is KV's, so a page may hold fewer than `limit` deliveries
 * when a filter is rare; `cursor: null` means there is nothing older. A delivery whose
 * index entry or record this release cannot read (a newer release wrote it) is named in
 * `unreadable`, whatever the filters, rather than failing the whole page or going unsaid.
 */
export async function listDeliveries(
  kv: KVNamespace,
  query: DeliveryQuery,
  describe: (record: DeliveryRecord) => Promise<LedgerView>,
): Promise<{ deliveries: DeliveryView[]; cursor: string | null; unreadable: UnreadableDelivery[] }> {
  const picked: DeliveryIndexEntry[] = [];
  const unreadable: UnreadableDelivery[] = [];
  let cursor: string | null = query.cursor ?? null;
  for (let page = 0; page < MAX_INDEX_PAGES && picked.length < query.limit; page++) {
    const listed = await kv.list<unknown>({ prefix: DELIVERY_INDEX_PREFIX, limit: query.limit - picked.length, cursor });
    cursor = listed.list_complete ? null : listed.cursor;
    let older = false;
    for (const key of listed.keys) {
      if (query.since !== undefined && receivedAtOfIndexKey(key.name) < query.since) {
        older = true;
        break;
      }
      const entry = readIndexEntry(key.metadata);
      if (!entry.success) unreadable.push({ delivery_id: deliveryIdOfIndexKey(key.name), error: entry.error });
      else if (mayMatch(entry.data, query)) picked.push(entry.data);
    }
    if (older) cursor = null;
    if (!cursor) break;
  }
  if (picked.length === 0) return { deliveries: [], cursor, unreadable };

  const stored = await kv.get<unknown>(
    picked.map((entry) => deliveryKey(entry.id)),
    "json",
  );
  const records: DeliveryRecord[] = [];
  for (const entry of picked) {
    const value = stored.get(deliveryKey(entry.id));
    // Expired since the index was listed: nothing to show.
    if (value === null || value === undefined) continue;
    const record = readStoredDeliveryRecord(value);
    if (record.success) records.push(record.data);
    else unreadable.push({ delivery_id: entry.id, error: record.error });
  }
  const views = await Promise.all(records.map((record) => describe(record).then((view) => withLedger(record, view))));
  return { deliveries: views.filter((view) => matches(view, query)), cursor, unreadable };
}

/**
 * What the index can tell. A delivery still in progress may gain outcomes from the ledger
 * (retrying becomes created), so its outcome is checked again once the ledger is read.
 */
function mayMatch(entry: DeliveryIndexEntry, query: DeliveryQuery): boolean {
  if (query.source && entry.source !== query.source) return false;
  if (query.device && !entry.devices.includes(query.device) && !entry.devices_truncated) return false;
  if (query.outcome && !entry.outcomes.includes(query.outcome) && entry.state !== "in-progress") return false;
  return true;
}

function matches(view: DeliveryView, query: DeliveryQuery): boolean {
  if (query.outcome && !view.decisions.some((d) => d.outcome === query.outcome)) return false;
  if (query.device && !view.decisions.some((d) => d.device_id === query.device)) return false;
  return true;
}
