import { describe, expect, it } from "vitest";
import { USEFUL_WAIT_MS } from "./admission";
import type { CommandRow, RowState } from "./command-rows";
import { RETRY_HORIZON_MS } from "./retry-schedule";
import { ALLOWED, transition, type CommandEvent, type CommandEventType, type Step } from "./transitions";

const T0 = Date.parse("2026-12-05T06:00:00Z");
const NOW = T0 + 60_000;

/** A row as the ledger stores it, in `state`; what each state usually carries with it. */
function rowIn(state: RowState, extra: Partial<CommandRow> = {}): CommandRow {
  const sent = ["sending", "uncertain", "created", "failed"].includes(state);
  return {
    key: "k",
    delivery_id: "d",
    source: "zapier",
    alert: 0,
    episode: "e",
    rule: "r",
    severity_rank: 0,
    cooldown_key: "c",
    cooldown_until: T0 + 30 * 60_000,
    command: "{}",
    device_name: null,
    state,
    reason: null,
    attempts: sent ? 1 : 0,
    queued_at: T0,
    admitted_at: state === "waiting" ? null : T0,
    first_sent_at: sent ? T0 : null,
    last_sent_at: sent ? T0 : null,
    next_at: null,
    command_id: state === "created" ? "cmd-1" : null,
    created_at: state === "created" ? T0 : null,
    status: state === "created" ? "PENDING_EXEC" : null,
    filename: null,
    completed_date: null,
    report: "{}",
    started_reported: 0,
    finished_reported: 0,
    expires_at: T0 + 86_400_000,
    requested_by: null,
    approval_secret: null,
    approval_expires_at: state === "awaiting-approval" ? T0 + 15 * 60_000 : null,
    approval_by: null,
    approval_via: null,
    approval_at: null,
    approval_reported: 0,
    received_at: null,
    type: "pcap",
    device_id: "dev",
    user_email: "a@example.com",
    registration_id: null,
    args: null,
    approval_approvers: null,
    ...extra,
  };
}

/** One event of every kind. */
const EVENTS: Record<CommandEventType, CommandEvent> = {
  "approval-requested": { type: "approval-requested", secret: "s".repeat(32), expires_at: T0 + 15 * 60_000 },
  approved: { type: "approved", by: "jane", via: "slack" },
  denied: { type: "denied", by: "jane", via: "console" },
  "approval-expired": { type: "approval-expired" },
  admitted: { type: "admitted" },
  "held-by-cap": { type: "held-by-cap", cap: 5, slot_frees_at: NOW + 30_000 },
  "held-by-quota": { type: "held-by-quota", spent_until: NOW + 120_000 },
  due: { type: "due" },
  sent: { type: "sent" },
  "create-created": { type: "create-created", command_id: "cmd-9" },
  "create-failed": { type: "create-failed", error: "HTTP 400: bad device" },
  "create-rate-limited": { type: "create-rate-limited", retry_after_seconds: 7 },
  "create-quota-spent": { type: "create-quota-spent", spent_until: NOW + 120_000 },
  "create-uncertain": { type: "create-uncertain", error: "HTTP 502" },
  "reconcile-found": { type: "reconcile-found", command_id: "cmd-9", when: "before sending again" },
  "reconcile-not-found": { type: "reconcile-not-found", error: "HTTP 502" },
  "reconcile-could-not-check": { type: "reconcile-could-not-check", error: { message: "HTTP 503", kind: "server" } },
  "status-polled": { type: "status-polled", status: "SUCCESS", filename: "pcap.zip", completed_date: "2026-12-05T06:01:00Z" },
};

const STATES: RowState[] = ["waiting", "sending", "uncertain", "created", "failed", "expired", "awaiting-approval", "denied", "approval-expired"];

/**
 * Every state × every event: the state it leads to (`same` when the state stays), the effects
 * it asks for, or `refused`. A pair missing here is refused; the table is the machine's spec.
 */
const EXPECTED: Partial<Record<RowState, Partial<Record<CommandEventType, { to: RowState | "same"; effects: string[] }>>>> = {
  waiting: {
    "approval-requested": { to: "awaiting-approval", effects: ["count-approval"] },
    admitted: { to: "same", effects: [] },
    "held-by-cap": { to: "same", effects: [] },
    "held-by-quota": { to: "waiting", effects: [] },
    // Not admitted yet: refused below; an admitted one is sent.
    sent: { to: "sending", effects: [] },
  },
  sending: {
    "create-created": { to: "created", effects: ["count-created", "log:created"] },
    "create-failed": { to: "failed", effects: ["log:failed"] },
    "create-rate-limited": { to: "waiting", effects: ["log:waiting"] },
    "create-quota-spent": { to: "waiting", effects: ["log:quota-held"] },
    "create-uncertain": { to: "same", effects: ["reconcile"] },
    due: { to: "same", effects: ["reconcile"] },
    "reconcile-found": { to: "created", effects: ["count-created", "log:created"] },
    "reconcile-not-found": { to: "uncertain", effects: ["log:retry-scheduled"] },
    "reconcile-could-not-check": { to: "uncertain", effects: ["log:check-postponed"] },
    "held-by-quota": { to: "waiting", effects: [] },
    sent: { to: "sending", effects: [] },
  },
  uncertain: {
    due: { to: "same", effects: ["reconcile"] },
    "reconcile-found": { to: "created", effects: ["count-created", "log:created"] },
    "reconcile-could-not-check": { to: "uncertain", effects: ["log:check-postponed"] },
    "held-by-quota": { to: "waiting", effects: [] },
    sent: { to: "sending", effects: [] },
  },
  created: { "status-polled": { to: "same", effects: ["log:status"] } },
  "awaiting-approval": {
    approved: { to: "waiting", effects: ["count-approval", "log:approval-approved"] },
    denied: { to: "denied", effects: ["count-approval", "log:approval-denied"] },
    "approval-expired": { to: "approval-expired", effects: ["count-approval", "log:approval-expired"] },
  },
};

/** Allowed by state but refused by what the row holds: listed so that the table stays complete. */
const GUARDED: Partial<Record<RowState, Partial<Record<CommandEventType, RegExp>>>> = {
  waiting: { due: /the cap has not admitted it/ },
  uncertain: { "reconcile-not-found": /only a create just sent/ },
};

const effectNames = (step: Step) => (step.ok ? step.effects.map((e) => (e.do === "log" ? `log:${e.event}` : e.do)) : []);

describe("the command state machine: every state × every event", () => {
  const cases = STATES.flatMap((state) => (Object.keys(EVENTS) as CommandEventType[]).map((event) => [state, event] as const));

  it("covers every state and every event", () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...STATES].sort());
    expect(cases).toHaveLength(STATES.length * Object.keys(EVENTS).length);
  });

  it.each(cases)("%s + %s", (state, event) => {
    const row = rowIn(state);
    const step = transition(row, EVENTS[event], NOW);
    const expected = EXPECTED[state]?.[event];
    const guard = GUARDED[state]?.[event];
    if (guard) {
      expect(step).toEqual({ ok: false, refused: expect.stringMatching(guard) });
      return;
    }
    if (!expected) {
      expect(ALLOWED[state]).not.toContain(event);
      expect(step).toEqual({ ok: false, refused: `a command ${state} does not take "${event}"` });
      return;
    }
    expect(step.ok, step.ok ? "" : step.refused).toBe(true);
    if (!step.ok) return;
    expect(step.changes.state ?? "same").toBe(expected.to === "same" ? "same" : expected.to);
    expect(effectNames(step)).toEqual(expected.effects);
  });
});

describe("the command state machine: what each change writes", () => {
  it("sends an admitted waiting command when due, and counts the send as an attempt", () => {
    const row = rowIn("waiting", { admitted_at: T0 });
    expect(transition(row, EVENTS.due, NOW)).toEqual({ ok: true, changes: {}, effects: [{ do: "send" }] });
    expect(transition(row, EVENTS.sent, NOW)).toEqual({
      ok: true,
      changes: { state: "sending", attempts: 1, first_sent_at: NOW, last_sent_at: NOW },
      effects: [],
    });
  });

  it("sends again, once looked up before sending, a command whose earlier create did not land", () => {
    expect(transition(rowIn("uncertain"), { type: "reconcile-not-found" }, NOW)).toEqual({ ok: true, changes: {}, effects: [{ do: "send" }] });
  });

  it("restarts the cooldown from the create, as long as the rule says", () => {
    const step = transition(rowIn("sending"), EVENTS["create-created"], NOW);
    expect(step.ok && step.changes).toMatchObject({
      state: "created",
      command_id: "cmd-9",
      created_at: NOW,
      status: "PENDING_EXEC",
      cooldown_until: NOW + 30 * 60_000,
      reason: "command created",
    });
    const noCooldown = transition(rowIn("sending", { cooldown_until: null }), EVENTS["create-created"], NOW);
    expect(noCooldown.ok && noCooldown.changes.cooldown_until).toBeNull();
  });

  it("does not count a create the API rate-limited or refused for the quota as an attempt", () => {
    const limited = transition(rowIn("sending", { attempts: 2 }), EVENTS["create-rate-limited"], NOW);
    expect(limited.ok && limited.changes).toMatchObject({
      state: "waiting",
      attempts: 1,
      next_at: NOW + 7000,
      reason: "the DEX API asked to wait 7 s; sending then",
    });
    const spent = transition(rowIn("sending", { attempts: 2 }), EVENTS["create-quota-spent"], NOW);
    expect(spent.ok && spent.changes).toMatchObject({ state: "waiting", attempts: 1, admitted_at: null, next_at: NOW + 120_000 });
  });

  it("retries a create that did not land quickly at first, and postpones a check by the API's Retry-After", () => {
    const retry = transition(rowIn("sending"), EVENTS["reconcile-not-found"], NOW);
    expect(retry.ok && retry.changes).toEqual({ state: "uncertain", reason: "HTTP 502; it did not land; retrying in 2 s", next_at: NOW + 2000 });
    const limited = transition(
      rowIn("sending"),
      { type: "reconcile-could-not-check", error: { message: "HTTP 429", kind: "rate-limited", retryAfterSeconds: 40 } },
      NOW,
    );
    expect(limited.ok && limited.changes).toMatchObject({ state: "uncertain", next_at: NOW + 40_000 });
  });

  it("writes a status it had not seen, and nothing for one it had", () => {
    const seen = transition(rowIn("created"), { ...EVENTS["status-polled"], status: "PENDING_EXEC" } as CommandEvent, NOW);
    expect(seen).toEqual({ ok: true, changes: {}, effects: [] });
    const finished = transition(rowIn("created"), EVENTS["status-polled"], NOW);
    expect(finished.ok && finished.changes).toEqual({ status: "SUCCESS", filename: "pcap.zip", completed_date: "2026-12-05T06:01:00Z" });
  });

  it("records who decided an approval, and lets an approved command wait from its approval on", () => {
    const approved = transition(rowIn("awaiting-approval"), EVENTS.approved, NOW);
    expect(approved.ok && approved.changes).toEqual({
      approval_by: "jane",
      approval_via: "slack",
      approval_at: NOW,
      state: "waiting",
      next_at: NOW,
      reason: null,
    });
    const denied = transition(rowIn("awaiting-approval"), EVENTS.denied, NOW);
    expect(denied.ok && denied.changes.reason).toBe("denied by jane (console); never sent");
    const expired = transition(rowIn("awaiting-approval"), EVENTS["approval-expired"], NOW);
    expect(expired.ok && expired.changes).toMatchObject({
      state: "approval-expired",
      cooldown_until: null,
      reason: "nobody approved it within 15 minutes; never sent",
    });
  });

  it("refuses to ask for approval twice, or to admit a command twice", () => {
    expect(transition(rowIn("waiting", { approval_expires_at: NOW }), EVENTS["approval-requested"], NOW).ok).toBe(false);
    expect(transition(rowIn("waiting", { admitted_at: T0 }), EVENTS.admitted, NOW).ok).toBe(false);
    expect(transition(rowIn("waiting", { admitted_at: T0 }), EVENTS["held-by-cap"], NOW).ok).toBe(false);
  });
});

describe("the command state machine: giving up after the horizon", () => {
  const justBefore = (ms: number) => T0 + ms - 1;
  const at = (ms: number) => T0 + ms;

  it.each([
    [
      "a create that did not land",
      "sending",
      EVENTS["reconcile-not-found"],
      RETRY_HORIZON_MS,
      "failed",
      /^gave up after 1 attempts over 30 minutes \(last: HTTP 502; it did not land\)$/,
    ],
    [
      "a create nobody could check",
      "uncertain",
      EVENTS["reconcile-could-not-check"],
      RETRY_HORIZON_MS,
      "failed",
      /^gave up after 30 minutes without learning whether the create landed \(last: HTTP 503\)$/,
    ],
    [
      "a command the cap held",
      "waiting",
      EVENTS["held-by-cap"],
      USEFUL_WAIT_MS,
      "expired",
      /^MAX_COMMANDS_PER_MINUTE \(5\) had no room for it within 10 minutes/,
    ],
    ["a command the spent quota held", "waiting", EVENTS["held-by-quota"], USEFUL_WAIT_MS, "expired", /; it could not be sent within 10 minutes of the alert$/],
    [
      "a create refused for the spent quota",
      "sending",
      EVENTS["create-quota-spent"],
      USEFUL_WAIT_MS,
      "expired",
      /; it could not be sent within 10 minutes of the alert$/,
    ],
  ] as const)("%s ends, never sent again, once its horizon has passed", (_, state, event, horizon, ends, reason) => {
    const before = transition(rowIn(state), event, justBefore(horizon));
    expect(before.ok && before.changes.state).not.toBe(ends);
    const after = transition(rowIn(state), event, at(horizon));
    expect(after.ok && after.changes).toMatchObject({ state: ends, next_at: null, cooldown_until: null, reason: expect.stringMatching(reason) });
  });

  it("counts the horizon from the approval for an approved command, not from the alert", () => {
    const approvedLate = rowIn("waiting", { approval_at: T0 + USEFUL_WAIT_MS });
    const held = transition(approvedLate, EVENTS["held-by-cap"], T0 + USEFUL_WAIT_MS + 1000);
    expect(held.ok && held.changes.state).toBeUndefined();
    const retry = transition(rowIn("sending", { approval_at: T0 + RETRY_HORIZON_MS }), EVENTS["reconcile-not-found"], T0 + RETRY_HORIZON_MS + 1000);
    expect(retry.ok && retry.changes.state).toBe("uncertain");
  });
});
