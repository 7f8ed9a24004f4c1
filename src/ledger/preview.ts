import type { ApiBudget } from "./api-budget";
import type { CommandRows } from "./command-rows";
import type { LedgerCommand, LedgerResult } from "./contract";
import { answerFor, cooldownAnswer } from "./outcomes";
import { quotaReason, type AccountQuota } from "./quota";

/** What `submit` would answer, without claiming or sending anything: for dry runs. */
export function preview(commands: LedgerCommand[], rows: CommandRows, budget: ApiBudget, quota: AccountQuota, now: number): LedgerResult[] {
  const keys = new Set<string>();
  const cooldowns = new Set<string>();
  return commands.map((command): LedgerResult => {
    const known = rows.get(command.key);
    if (known) return answerFor(known, command);
    if (keys.has(command.key)) return { key: command.key, outcome: "duplicate", reason: "the same alert episode appears earlier in this delivery" };
    keys.add(command.key);
    const cooling = rows.coolingDown(command.cooldown_key, now);
    if (cooling) return cooldownAnswer(cooling, command);
    if (cooldowns.has(command.cooldown_key) && command.cooldown_minutes > 0) {
      return { key: command.key, outcome: "cooldown", reason: `another alert of this delivery already sends ${command.command.type} to this device` };
    }
    cooldowns.add(command.cooldown_key);
    const locked = budget.lockedUntil(now);
    const spent = quota.spentUntil(now);
    const reason = command.approval
      ? `every check passed; it would wait up to ${command.approval.expires_minutes} minutes for a person to approve it`
      : spent
        ? `every check passed; ${quotaReason(spent)}, so it would wait for the reset`
        : locked
          ? `every check passed; the DEX API is locking the token out until ${new Date(locked).toISOString()}, so it would be sent then`
          : "every check passed";
    return { key: command.key, outcome: "would-create", reason };
  });
}
