import type { Decision } from "../model/decision";
import type { DeliveryMessage } from "../model/delivery-message";

/**
 * One delivery as the consumer works on it: the queue message it came in, its alerts, the
 * decisions taken so far, and whether the queue must bring it back (and when).
 */
export class Delivery {
  readonly decisions: Decision[] = [];
  /** Decisions that wait on the queue's retry of this message, not on the command ledger. */
  readonly #waitingOnQueue = new Set<Decision>();
  #retryAfterSeconds: number | undefined;

  constructor(
    readonly body: DeliveryMessage,
    readonly message: Pick<Message<unknown>, "id" | "attempts" | "ack" | "retry">,
  ) {}

  get id(): string {
    return this.body.delivery_id;
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

  /** The queue will not bring it back: what waited on a retry has failed. */
  giveUp(): void {
    for (const decision of this.#waitingOnQueue) {
      decision.outcome = "failed";
      decision.reason = `gave up after ${this.message.attempts} attempts (last: ${decision.reason}); the delivery is in the dead-letter queue`;
    }
  }
}
