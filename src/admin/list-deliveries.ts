import type { DeliveryView as LedgerView } from "../ledger/contract";
import { DELIVERY_INDEX_PREFIX, receivedAtOfIndexKey, type DeliveryIndexEntry } from "../record/delivery-index";
import { deliveryKey } from "../model/kv-keys";
import type { DeliveryRecord } from "../record/delivery-record";
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

/**
 * Deliveries newest first, from the index that `saveDeliveryRecord` keeps beside every
 * record: filters are applied to the index entries' metadata, and only the records that
 * pass are read. The cursor is KV's, so a page may hold fewer than `limit` deliveries
 * when a filter is rare; `cursor: null` means there is nothing older.
 */
export async function listDeliveries(
  kv: KVNamespace,
  query: DeliveryQuery,
  describe: (record: DeliveryRecord) => Promise<LedgerView>,
): Promise<{ deliveries: DeliveryView[]; cursor: string | null }> {
  const picked: DeliveryIndexEntry[] = [];
  let cursor: string | null = query.cursor ?? null;
  for (let page = 0; page < MAX_INDEX_PAGES && picked.length < query.limit; page++) {
    const listed = await kv.list<DeliveryIndexEntry>({ prefix: DELIVERY_INDEX_PREFIX, limit: query.limit - picked.length, cursor });
    cursor = listed.list_complete ? null : listed.cursor;
    let older = false;
    for (const key of listed.keys) {
      if (query.since !== undefined && receivedAtOfIndexKey(key.name) < query.since) {
        older = true;
        break;
      }
      if (key.metadata && mayMatch(key.metadata, query)) picked.push(key.metadata);
    }
    if (older) cursor = null;
    if (!cursor) break;
  }
  if (picked.length === 0) return { deliveries: [], cursor };

  const records = await kv.get<DeliveryRecord>(picked.map((entry) => deliveryKey(entry.id)), "json");
  const views = await Promise.all(
    picked.flatMap((entry) => {
      const record = records.get(deliveryKey(entry.id));
      return record ? [describe(record).then((view) => withLedger(record, view))] : [];
    }),
  );
  return { deliveries: views.filter((view) => matches(view, query)), cursor };
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
