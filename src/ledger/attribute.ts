import { DEFAULT_TIMEOUT_MS } from "../dispatch/dex-client";
import type { ListedCommand } from "../model/dex-api";

/**
 * The API's clock and the Worker's may differ by a little; a create that landed shows a
 * `created_date` within this margin of when it was sent.
 */
export const ATTRIBUTION_MARGIN_MS = 10_000;

/** A command the ledger sent but could not confirm: did any listed command come from it? */
export interface Unconfirmed {
  key: string;
  device_id: string;
  registration_id?: string;
  user_email: string;
  type: string;
  /** When it was first and last sent: it can only have landed between these, give or take the margin and the client's timeout. */
  first_sent_at: number;
  last_sent_at: number;
}

/**
 * Pairs unconfirmed creates with listed commands. A listed command is attributed to at most
 * one key, never to one that the ledger already knows (`taken`), and only when it is on the
 * same device (and registration, when one was sent), of the same type, and created while
 * this key's create was in flight: another alert's command on the same laptop is not ours.
 */
export function attributeLanded(unconfirmed: readonly Unconfirmed[], listed: readonly ListedCommand[], taken: ReadonlySet<string>): Map<string, string> {
  const found = new Map<string, string>();
  const used = new Set(taken);
  for (const wanted of unconfirmed) {
    const match = listed.find(
      (c) =>
        !used.has(c.id) &&
        c.device_id === wanted.device_id &&
        c.type === wanted.type &&
        (!wanted.registration_id || !c.registration_id || c.registration_id === wanted.registration_id) &&
        (!c.user_email || c.user_email.toLowerCase() === wanted.user_email.toLowerCase()) &&
        createdWhileInFlight(c.created_date, wanted),
    );
    if (!match) continue;
    used.add(match.id);
    found.set(wanted.key, match.id);
  }
  return found;
}

function createdWhileInFlight(created: string | null | undefined, wanted: Unconfirmed): boolean {
  const at = created ? Date.parse(created) : NaN;
  // Without a date nothing says it is ours.
  if (Number.isNaN(at)) return false;
  // The last create may have been acted on at any moment until the client gave up on it.
  return at >= wanted.first_sent_at - ATTRIBUTION_MARGIN_MS && at <= wanted.last_sent_at + DEFAULT_TIMEOUT_MS + ATTRIBUTION_MARGIN_MS;
}
