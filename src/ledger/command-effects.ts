import { logEvent, logProblem } from "../record/log";
import { commandOf, type CommandRow, type CommandRows } from "./command-rows";
import type { LedgerMetrics } from "./ledger-metrics";
import type { CommandEvent, Effect } from "./transitions";

/** What the ledger itself still does with an effect once it is written: send the command, or reconcile its create. */
export type ApiEffect = Extract<Effect, { do: "send" | "reconcile" }>;

/**
 * Writes what happened to a command, as the state machine (./transitions.ts) says, and does
 * its bookkeeping effects: the log line and the counters. What is left (a send, a
 * reconcile) is handed back to the caller, which owns the API.
 */
export class CommandEffects {
  readonly #rows: CommandRows;
  readonly #metrics: LedgerMetrics;

  constructor(rows: CommandRows, metrics: LedgerMetrics) {
    this.#rows = rows;
    this.#metrics = metrics;
  }

  /** Applies `event` to `row`; a transition the machine refuses changes nothing and is logged. */
  apply(row: CommandRow, event: CommandEvent, now: number): ApiEffect[] {
    const step = this.#rows.apply(row, event, now);
    if (!step.ok) {
      logProblem("ledger-transition-refused", { delivery_id: row.delivery_id, rule: row.rule, state: row.state, event: event.type, reason: step.refused });
      return [];
    }
    return this.#run(row, step.effects, now);
  }

  #run(row: CommandRow, effects: readonly Effect[], now: number): ApiEffect[] {
    for (const effect of effects) {
      if (effect.do === "log") this.log(effect.event, row, effect.details);
      else if (effect.do === "count-created") this.#metrics.commandCreated(row, now);
      else if (effect.do === "count-approval") this.#metrics.approval(effect.outcome);
    }
    return effects.filter((effect): effect is ApiEffect => effect.do === "send" || effect.do === "reconcile");
  }

  log(event: string, row: CommandRow, details: Record<string, string | number | undefined> = {}): void {
    const { type } = commandOf(row);
    this.#metrics.commandEvent(event, type, details);
    logEvent(`ledger-${event}`, { delivery_id: row.delivery_id, alert: row.alert, rule: row.rule, type, ...details });
  }
}
