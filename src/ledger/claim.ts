import type { Approvals } from "./approvals";
import type { CommandRows } from "./command-rows";
import type { LedgerCommand, LedgerResult } from "./contract";
import { answerFor, cooldownAnswer } from "./outcomes";

export interface ClaimContext {
  rows: CommandRows;
  approvals: Approvals;
  /** How long a key is held at least (IDEMPOTENCY_TTL_HOURS). */
  idempotencyTtlMs: number;
}

/**
 * Claims the commands a submit asks for. A key the ledger already holds is answered from what
 * it knows, a command inside its rule's cooldown is refused, anything else is written as a new
 * command, held for a person when its rule wants approval. The caller runs this inside one
 * synchronous transaction, with no await between the check and the claim, so two consumers,
 * two locations or two retries can never both claim a key.
 *
 * Returns the answers given here, by the command's index; the commands it claimed are
 * answered from their rows once the ledger has worked on them.
 */
export function claim(commands: readonly LedgerCommand[], context: ClaimContext, now: number): Map<number, LedgerResult> {
  const { rows, approvals } = context;
  const answers = new Map<number, LedgerResult>();
  commands.forEach((command, i) => {
    const known = rows.get(command.key);
    if (known) return answers.set(i, answerFor(known, command));
    const cooling = rows.coolingDown(command.cooldown_key, now);
    if (cooling) return answers.set(i, cooldownAnswer(cooling, command));
    rows.insert(command, now, Math.max(context.idempotencyTtlMs, command.cooldown_minutes * 60_000));
    if (command.approval) approvals.hold(command.key, command.approval, now);
  });
  return answers;
}
