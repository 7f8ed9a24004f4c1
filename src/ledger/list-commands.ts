import { commandOf, type CommandRow } from "./command-rows";
import { ownResult } from "./outcomes";
import { presentFields } from "../model/present-fields";
import { approvalOf } from "./approvals";
import type { ApprovalView } from "../model/approval";
import type { LedgerOutcome } from "./contract";

/** At most this many commands per page. */
export const MAX_LISTED_COMMANDS = 100;

export interface CommandQuery {
  /** A DEX status (`SUCCESS`, `PENDING_EXEC`, ...) or what the ledger says (`waiting`, `retrying`, `failed`, `created`, `awaiting-approval`, `denied`, `expired`). */
  status?: string;
  /** A device id, or a device name in any case. */
  device?: string;
  /** Only commands the ledger took at or after this time (ms). */
  since?: number;
  /** From the previous page's answer. */
  cursor?: string;
  limit: number;
}

/** One command as operators list it. Plain data: it crosses the Durable Object boundary. */
export interface ListedCommand {
  key: string;
  command_id: string | null;
  outcome: LedgerOutcome;
  reason: string;
  delivery_id: string;
  alert: number;
  source: string;
  rule: string;
  type: string;
  device_id: string;
  device_name: string | null;
  user_email: string | null;
  /** Who asked for it, for a capture on demand. */
  requested_by: string | null;
  status: string | null;
  filename: string | null;
  completed_date: string | null;
  attempts: number;
  queued_at: string;
  created_at: string | null;
  /** Present when its rule wants approval: where that stands, who decided, how and when. */
  approval?: ApprovalView;
}

/** Ledger states behind each outcome a caller may filter on. */
const STATES_OF: Partial<Record<string, string[]>> = {
  created: ["created"],
  failed: ["failed"],
  retrying: ["sending", "uncertain", "waiting"],
  waiting: ["waiting"],
  "awaiting-approval": ["awaiting-approval"],
  denied: ["denied"],
  // Never sent: it waited for the cap, the quota or a person until it was no longer useful.
  expired: ["expired", "approval-expired"],
};

/**
 * The commands the ledger holds, newest first (by when it took them), with their DEX status
 * as last read. Pages are keyset-based: `cursor` is `<queued_at>.<key>` of the last command
 * of the previous page, so commands taken meanwhile never shift a page.
 */
export function listCommands(sql: SqlStorage, query: CommandQuery): { commands: ListedCommand[]; cursor: string | null } {
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  if (query.status) {
    const states = STATES_OF[query.status.toLowerCase()];
    if (states) {
      where.push(`state IN (${states.map(() => "?").join(", ")})`);
      params.push(...states);
    } else {
      where.push("status = ?");
      params.push(query.status.toUpperCase());
    }
  }
  if (query.device) {
    where.push("(COALESCE(device_id, json_extract(command, '$.device_id')) = ? OR device_name = ? COLLATE NOCASE)");
    params.push(query.device, query.device);
  }
  if (query.since !== undefined) {
    where.push("queued_at >= ?");
    params.push(query.since);
  }
  const after = parseCursor(query.cursor);
  if (after) {
    where.push("(queued_at < ? OR (queued_at = ? AND key < ?))");
    params.push(after.at, after.at, after.key);
  }
  const limit = Math.max(1, Math.min(MAX_LISTED_COMMANDS, query.limit));
  const rows = sql
    .exec<CommandRow>(
      `SELECT * FROM commands ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY queued_at DESC, key DESC LIMIT ?`,
      ...params,
      limit + 1,
    )
    .toArray();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  let commands = page.map(listed);
  // "waiting" as the ledger answers it: held by the cap, not yet admitted.
  if (query.status?.toLowerCase() === "waiting") commands = commands.filter((c) => c.outcome === "waiting");
  if (query.status?.toLowerCase() === "retrying") commands = commands.filter((c) => c.outcome === "retrying");
  return { commands, cursor: rows.length > limit && last ? `${last.queued_at}.${last.key}` : null };
}

function listed(row: CommandRow): ListedCommand {
  const command = commandOf(row);
  const result = ownResult(row);
  return {
    key: row.key,
    command_id: row.command_id,
    outcome: result.outcome,
    reason: result.reason,
    delivery_id: row.delivery_id,
    alert: row.alert,
    source: row.source,
    rule: row.rule,
    type: command.type,
    device_id: command.device_id,
    device_name: row.device_name,
    user_email: command.user_email ?? null,
    requested_by: row.requested_by,
    status: row.status,
    filename: row.filename,
    completed_date: row.completed_date,
    attempts: row.attempts,
    queued_at: new Date(row.queued_at).toISOString(),
    created_at: row.created_at === null ? null : new Date(row.created_at).toISOString(),
    ...presentFields({ approval: approvalOf(row) }),
  };
}

function parseCursor(cursor: string | undefined): { at: number; key: string } | undefined {
  const match = cursor ? /^(\d{1,15})\.([0-9a-f]{1,128})$/.exec(cursor) : null;
  return match ? { at: Number(match[1]), key: match[2]! } : undefined;
}
