import type { Decision } from "../model/decision";
import type { DeliveryMessage } from "../model/delivery-message";
import type { BudgetWait as LookupWait } from "../resolve/device-directory";

/** What the API budget said to the lookups an alert waits on. */
export type BudgetWait = Pick<LookupWait, "seconds" | "calls">;

/**
 * One delivery as the consumer works on it: the queue message it came in, its alerts, the
 * decisions taken so far, and whether it must come back (and when): by the queue's retry
 * when something failed, or as a continuation when device lookups wait for the API budget.
 */
export class Delivery {
  readonly decisions: Decision[] = [];
  /** Decisions that wait on the queue's retry of this message, not on the command ledger. */
  readonly #waitingOnQueue = new Set<Decision>();
  #retryAfterSeconds: number | undefined;
  /** On a continuation, the alerts this pass plans; all of them otherwise. */
  #scope: ReadonlySet<number> | undefined;
  /** Decisions earlier passes took for the alerts this pass does not plan. */
  #carried: readonly Decision[] = [];
  /** Alerts whose device lookups wait for room in the API budget, with their decisions meanwhile. */
  readonly #waitingOnBudget = new Map<number, Decision[]>();
  #budgetWait: BudgetWait | undefined;

  constructor(
    readonly body: DeliveryMessage,
    readonly message: Pick<Message<unknown>, "id" | "attempts" | "ack" | "retry">,
  ) {
    this.#scope = body.pending ? new Set(body.pending) : undefined;
  }

  get id(): string {
    return this.body.delivery_id;
  }

  /** A continuation of an earlier pass, which planned and recorded the other alerts. */
  get continues(): boolean {
    return this.#scope !== undefined;
  }

  /** Indexes of the alerts this pass plans, in the delivery's order. */
  get alertsToPlan(): number[] {
    const all = this.body.alerts.map((_, index) => index);
    return this.#scope ? all.filter((index) => this.#scope!.has(index)) : all;
  }

  /**
   * Takes the decisions of the alerts this continuation does not plan from the delivery's
   * record. When the record does not have a settled decision for each of them (KV had not
   * caught up, or the record is gone), nothing is carried and every alert is planned again:
   * the command ledger answers for what is already claimed. False in that case.
   */
  carryOver(recorded: readonly Decision[] | undefined): boolean {
    const scope = this.#scope;
    if (!scope) return true;
    const carried = (recorded ?? []).filter((decision) => !scope.has(decision.alert));
    const covered = new Set(carried.map((decision) => decision.alert));
    const complete = this.body.alerts.every((_, index) => scope.has(index) || covered.has(index)) && !carried.some(isLookupWait);
    if (complete) this.#carried = carried;
    else this.#scope = undefined;
    return complete;
  }

  decide(decision: Decision): void {
    this.decisions.push(decision);
  }

  /** Records a decision that only a later attempt of this message can settle, `seconds` from now at the earliest. */
  retryLater(decision: Decision, seconds: number): void {
    this.decide(decision);
    this.#waitingOnQueue.add(decision);
    this.#retryAfterSeconds = Math.max(this.#retryAfterSeconds ?? 0, Math.ceil(seconds));
  }

  /** Set when the queue must deliver this message again: the shortest wait that is useful. */
  get retryAfterSeconds(): number | undefined {
    return this.#retryAfterSeconds;
  }

  /** Alert `alert` is planned again once the API budget has room for its lookups; `decisions` stand for it meanwhile. */
  waitForBudget(alert: number, decisions: Decision[], wait: BudgetWait): void {
    for (const decision of decisions) this.decide(decision);
    this.#waitingOnBudget.set(alert, decisions);
    // One round of lookups per batch: every alert that waits waits on the same answer.
    this.#budgetWait = wait;
  }

  /** What the API budget said, when alerts of this pass wait on it. */
  get budgetWait(): BudgetWait | undefined {
    return this.#waitingOnBudget.size > 0 ? this.#budgetWait : undefined;
  }

  /** The waiting alerts come back at `at`: their decisions say so. */
  comesBackAt(at: Date): void {
    for (const decision of this.#budgetDecisions()) decision.reason = `${LOOKUP_WAIT_REASON}; looked up again at ${at.toISOString()}`;
  }

  /** The waiting alerts will not be looked up while a capture is useful: that is their final decision. */
  expireWaiting(reason: string): void {
    for (const decision of this.#budgetDecisions()) {
      decision.outcome = "expired";
      decision.reason = reason;
    }
    this.#waitingOnBudget.clear();
  }

  /** The message that brings the waiting alerts back: this delivery, naming them. */
  continuation(): DeliveryMessage {
    return { ...this.body, pending: [...this.#waitingOnBudget.keys()].sort((a, b) => a - b) };
  }

  /** Every decision of the delivery as this pass leaves it: those carried over, then its own. */
  get allDecisions(): Decision[] {
    return [...this.#carried, ...this.decisions];
  }

  /** The queue will not bring it back: what waited on a retry or on the budget has failed. */
  giveUp(): void {
    for (const decision of [...this.#waitingOnQueue, ...this.#budgetDecisions()]) {
      decision.outcome = "failed";
      decision.reason = `gave up after ${this.message.attempts} attempts (last: ${decision.reason}); the delivery is in the dead-letter queue`;
    }
    this.#waitingOnBudget.clear();
  }

  #budgetDecisions(): Decision[] {
    return [...this.#waitingOnBudget.values()].flat();
  }
}

/** Why an alert has no command yet while its device lookup waits. */
export const LOOKUP_WAIT_REASON = "its device lookup waits for room in the DEX API budget";

/** A decision that stands in for an alert whose device lookup waits: it names no device yet. */
export function isLookupWait(decision: Decision): boolean {
  return decision.outcome === "waiting" && decision.device_id === undefined;
}
