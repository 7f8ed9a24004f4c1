import type { ApprovalVia } from "../model/approval";
import { USEFUL_WAIT_MS } from "./admission";
import type { CommandRow, RowState } from "./command-rows";
import { quotaReason } from "./quota";
import { retryDelaySeconds, RETRY_HORIZON_MS } from "./retry-schedule";

/**
 * Every change of a command's state, in one place and without I/O: given a row, what
 * happened to it and the time, `transition` says how the row changes and what the ledger
 * must do about it (send it, reconcile it, log it, count it). The ledger (./command-ledger.ts)
 * reads the rows, makes the calls and writes what this returns; it never writes a state itself.
 * An event a state does not allow is refused, never applied.
 */
export type CommandEvent =
  /** Its rule wants approval: it waits for a person, with the secret its buttons carry. */
  /** `approvers`: who may decide (Slack user ids and emails); unset, anyone who can reach it. */
  | { type: "approval-requested"; secret: string; expires_at: number; approvers?: readonly string[] }
  | { type: "approved"; by: string; via: ApprovalVia }
  | { type: "denied"; by: string; via: ApprovalVia }
  | { type: "approval-expired" }
  /** The per-minute cap has room for it. */
  | { type: "admitted" }
  /** The cap has no room: it waits for `slot_frees_at`, within its useful wait. */
  | { type: "held-by-cap"; cap: number; slot_frees_at: number }
  /** The account's command quota is spent until `spent_until`: it waits for the reset. */
  | { type: "held-by-quota"; spent_until: number }
  /** Its time has come: a waiting command is sent, one that may have landed is looked up first. */
  | { type: "due" }
  /** Its create leaves now. */
  | { type: "sent" }
  /** What the create request answered for it. */
  | { type: "create-created"; command_id: string }
  | { type: "create-failed"; error: string }
  | { type: "create-rate-limited"; retry_after_seconds: number }
  | { type: "create-quota-spent"; spent_until: number }
  | { type: "create-uncertain"; error: string }
  /** What a look at the commands the API lists said about a create that may have landed. */
  | { type: "reconcile-found"; command_id: string; when: string }
  /** `error`: the failed create it was looked up after; none when it was looked up before sending again. */
  | { type: "reconcile-not-found"; error?: string }
  | { type: "reconcile-could-not-check"; error: { message: string; kind: string; retryAfterSeconds?: number } }
  /** Its DEX status as last listed. */
  | { type: "status-polled"; status: string; filename: string | null; completed_date: string | null };

export type CommandEventType = CommandEvent["type"];

/** What the ledger does after applying a transition. */
export type Effect =
  | { do: "send" }
  | { do: "reconcile" }
  /** Logs `ledger-<event>` about the command (and counts it, ./ledger-metrics.ts). */
  | { do: "log"; event: string; details: Record<string, string | number | undefined> }
  /** Times alert → command. */
  | { do: "count-created" }
  | { do: "count-approval"; outcome: "requested" | "approved" | "denied" | "expired" };

export type Changes = Partial<Omit<CommandRow, "key">>;
export type Step = { ok: true; changes: Changes; effects: Effect[] } | { ok: false; refused: string };

/** Which events each state allows; any other is refused. */
export const ALLOWED: Readonly<Record<RowState, readonly CommandEventType[]>> = {
  waiting: ["approval-requested", "admitted", "held-by-cap", "held-by-quota", "due", "sent"],
  sending: [
    "create-created",
    "create-failed",
    "create-rate-limited",
    "create-quota-spent",
    "create-uncertain",
    "due",
    "reconcile-found",
    "reconcile-not-found",
    "reconcile-could-not-check",
    "held-by-quota",
    "sent",
  ],
  uncertain: ["due", "reconcile-found", "reconcile-not-found", "reconcile-could-not-check", "held-by-quota", "sent"],
  created: ["status-polled"],
  "awaiting-approval": ["approved", "denied", "approval-expired"],
  failed: [],
  expired: [],
  denied: [],
  "approval-expired": [],
};

/**
 * How long a command may keep waiting, counted from when, and how it ends past that: the one
 * rule for giving up. `retry`: a create that did not land, or whose landing the API cannot
 * confirm. `cap`: a command the per-minute cap held. `quota`: one the spent quota held.
 */
const HORIZONS = {
  retry: { ms: RETRY_HORIZON_MS, from: readySince, ends: "failed" },
  cap: { ms: USEFUL_WAIT_MS, from: readySince, ends: "expired" },
  quota: { ms: USEFUL_WAIT_MS, from: (row: Pick<CommandRow, "queued_at">) => row.queued_at, ends: "expired" },
} as const;

/** Since when a command may be sent: its approval, or else when the ledger took it. */
export function readySince(row: Pick<CommandRow, "approval_at" | "queued_at">): number {
  return row.approval_at ?? row.queued_at;
}

function pastHorizon(row: CommandRow, horizon: keyof typeof HORIZONS, now: number): boolean {
  const { ms, from } = HORIZONS[horizon];
  return now - from(row) >= ms;
}

/** Ends a command past its horizon: never sent again, and its cooldown lifted, since nothing ran. */
function giveUp(horizon: keyof typeof HORIZONS, reason: string): Changes & { state: RowState; reason: string } {
  return { state: HORIZONS[horizon].ends, reason, next_at: null, cooldown_until: null };
}

const log = (event: string, details: Record<string, string | number | undefined> = {}): Effect => ({ do: "log", event, details });

export function transition(row: CommandRow, event: CommandEvent, now: number): Step {
  if (!ALLOWED[row.state].includes(event.type)) return { ok: false, refused: `a command ${row.state} does not take "${event.type}"` };
  const refuse = (why: string): Step => ({ ok: false, refused: `a command ${row.state} does not take "${event.type}": ${why}` });
  const step = (changes: Changes, ...effects: Effect[]): Step => ({ ok: true, changes, effects });

  switch (event.type) {
    case "approval-requested":
      if (row.admitted_at !== null || row.approval_expires_at !== null) return refuse("it is past asking");
      return step(
        {
          state: "awaiting-approval",
          next_at: null,
          approval_secret: event.secret,
          approval_expires_at: event.expires_at,
          approval_approvers: event.approvers ? JSON.stringify(event.approvers) : null,
        },
        { do: "count-approval", outcome: "requested" },
      );
    case "approved":
      // From here it is an ordinary command: its useful wait and its retries count from now (readySince).
      return step(
        { approval_by: event.by, approval_via: event.via, approval_at: now, state: "waiting", next_at: now, reason: null },
        { do: "count-approval", outcome: "approved" },
        log("approval-approved", { via: event.via }),
      );
    case "denied":
      return step(
        {
          approval_by: event.by,
          approval_via: event.via,
          approval_at: now,
          state: "denied",
          next_at: null,
          reason: `denied by ${event.by} (${event.via}); never sent`,
        },
        { do: "count-approval", outcome: "denied" },
        log("approval-denied", { via: event.via }),
      );
    case "approval-expired": {
      const minutes = Math.round(((row.approval_expires_at ?? row.queued_at) - row.queued_at) / 60_000);
      // Nobody said no: a later alert about the device may ask again.
      return step(
        {
          state: "approval-expired",
          next_at: null,
          cooldown_until: null,
          approval_at: now,
          reason: `nobody approved it within ${minutes} minutes; never sent`,
        },
        { do: "count-approval", outcome: "expired" },
        log("approval-expired"),
      );
    }
    case "admitted":
      if (row.admitted_at !== null) return refuse("it was admitted already");
      return step({ admitted_at: now, next_at: now });
    case "held-by-cap": {
      if (row.admitted_at !== null) return refuse("it was admitted already");
      const window = `within ${USEFUL_WAIT_MS / 60_000} minutes of the alert or its approval`;
      if (pastHorizon(row, "cap", now)) {
        const reason = `MAX_COMMANDS_PER_MINUTE (${event.cap}) had no room for it ${window}`;
        return step(giveUp("cap", reason), log("capped", { reason }));
      }
      return step({ next_at: event.slot_frees_at, reason: `held by MAX_COMMANDS_PER_MINUTE (${event.cap}); sent when a slot frees, ${window}` });
    }
    case "held-by-quota": {
      const hold = quotaHold(row, event.spent_until, now);
      return hold.state === "expired" ? step(hold, log("quota-expired", { reason: hold.reason })) : step(hold);
    }
    case "create-quota-spent": {
      // Nothing was created: not an attempt, and not a failure. It waits for the reset.
      const hold = quotaHold(row, event.spent_until, now);
      return step({ ...hold, attempts: row.attempts - 1 }, log(hold.state === "expired" ? "quota-expired" : "quota-held", { reason: hold.reason }));
    }
    case "due":
      if (row.state === "waiting" && row.admitted_at === null) return refuse("the cap has not admitted it");
      return step({}, { do: row.state === "waiting" ? "send" : "reconcile" });
    case "sent":
      return step({ state: "sending", attempts: row.attempts + 1, first_sent_at: row.first_sent_at ?? now, last_sent_at: now });
    case "create-created":
      return created(row, event.command_id, "command created", now);
    case "reconcile-found":
      return created(row, event.command_id, `an earlier create had landed; found it ${event.when} instead of creating again`, now);
    case "create-failed":
      return step({ state: "failed", reason: event.error, next_at: null, cooldown_until: null }, log("failed", { reason: event.error }));
    case "create-rate-limited": {
      // Nothing was created: this send does not count as an attempt.
      const reason = `the DEX API asked to wait ${event.retry_after_seconds} s; sending then`;
      return step({ state: "waiting", attempts: row.attempts - 1, reason, next_at: now + event.retry_after_seconds * 1000 }, log("waiting", { reason }));
    }
    case "create-uncertain":
      // It may have landed: ask at once, before anything else is decided about it.
      return step({}, { do: "reconcile" });
    case "reconcile-not-found": {
      // Looked up before sending again: it did not land, so it goes out now.
      if (event.error === undefined) return step({}, { do: "send" });
      if (row.state !== "sending") return refuse("only a create just sent is looked up after it failed");
      const error = `${event.error}; it did not land`;
      if (pastHorizon(row, "retry", now)) {
        const reason = `gave up after ${row.attempts} attempts over ${RETRY_HORIZON_MS / 60_000} minutes (last: ${error})`;
        return step(giveUp("retry", reason), log("failed", { reason }));
      }
      const delay = retryDelaySeconds(row.attempts);
      const reason = `${error}; retrying in ${delay} s`;
      return step(
        { state: "uncertain", reason, next_at: now + delay * 1000 },
        log("retry-scheduled", { reason, attempts: row.attempts, delay_seconds: delay }),
      );
    }
    case "reconcile-could-not-check": {
      // The API could not say whether a create landed: ask again later, never create blindly.
      if (pastHorizon(row, "retry", now)) {
        const reason = `gave up after ${RETRY_HORIZON_MS / 60_000} minutes without learning whether the create landed (last: ${event.error.message})`;
        return step(giveUp("retry", reason), log("failed", { reason }));
      }
      const delay = event.error.kind === "rate-limited" ? (event.error.retryAfterSeconds ?? 60) : retryDelaySeconds(Math.max(1, row.attempts));
      const reason = `could not check whether the create landed: ${event.error.message}; checking again in ${delay} s`;
      return step({ state: "uncertain", reason, next_at: now + delay * 1000 }, log("check-postponed", { reason }));
    }
    case "status-polled":
      if (event.status === row.status) return step({});
      return step(
        { status: event.status, filename: event.filename, completed_date: event.completed_date },
        log("status", { command_id: row.command_id ?? undefined, status: event.status }),
      );
  }
}

/** Created: its cooldown runs from now, as long as the rule says. */
function created(row: CommandRow, commandId: string, reason: string, now: number): Step {
  const cooldownMs = row.cooldown_until === null ? 0 : row.cooldown_until - row.queued_at;
  return {
    ok: true,
    changes: {
      state: "created",
      command_id: commandId,
      created_at: now,
      status: "PENDING_EXEC",
      reason,
      next_at: null,
      cooldown_until: cooldownMs > 0 ? now + cooldownMs : null,
    },
    effects: [{ do: "count-created" }, log("created", { command_id: commandId, reason })],
  };
}

/**
 * A command that would be sent while the quota is spent waits for the reset, back in the
 * cap's queue (at the reset, the cap paces what waited), and wakes when its useful window
 * ends; past that window it ends `expired`, as one the cap held does.
 */
function quotaHold(row: CommandRow, spentUntil: number, now: number): Changes & { state: RowState; reason: string } {
  const reason = quotaReason(spentUntil);
  const window = `within ${USEFUL_WAIT_MS / 60_000} minutes of the alert`;
  if (pastHorizon(row, "quota", now)) return giveUp("quota", `${reason}; it could not be sent ${window}`);
  return {
    state: "waiting",
    admitted_at: null,
    next_at: Math.min(spentUntil, HORIZONS.quota.from(row) + USEFUL_WAIT_MS),
    reason: `${reason}; sent then if still ${window}`,
  };
}
