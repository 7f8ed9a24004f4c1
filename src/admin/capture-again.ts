import { allowsOnDemand, type CompiledRule } from "../config/load-rules";
import type { RelayConfig } from "../config/settings";
import { commandLedger } from "../ledger/ledger-stub";
import { badRequest, notFound } from "../model/http-errors";
import { requestCapture, type CaptureQueued } from "../receive/request-capture";

/** Longer than any DEX command id: such an id is not looked up. */
const MAX_COMMAND_ID_LENGTH = 256;

/**
 * Runs a command the relay created once more, on the same device, for the same incident: what
 * a "Capture again" button asks for. The button carries only the command id, and the command
 * ledger, not the button, says which device and command that is, so a request can only repeat
 * a command the relay made. It is a capture on demand like any other, held by its rule's
 * cooldown and the cap: under the command's own rule when that rule allows captures on demand,
 * else under the first rule that allows them for the same command type (an alert's rule is in
 * its cooldown right after its command ran; the on-demand rule has a cooldown of its own). 400
 * when no rule allows it; 404 for a command the ledger does not hold (it forgets final
 * commands after `IDEMPOTENCY_TTL_HOURS`).
 */
export async function captureAgain(
  env: Env,
  config: RelayConfig,
  request: { command_id: string; requested_by: string; via: "slack" | "console" | "api"; idempotency_key?: string },
): Promise<CaptureQueued> {
  const { command_id, ...ask } = request;
  const made = command_id.length <= MAX_COMMAND_ID_LENGTH ? await commandLedger(env, config.accountId).madeCommand(command_id) : undefined;
  if (!made) throw notFound("no such command: it is not one the relay created, or the ledger no longer holds it");
  const { type, rule, ...target } = made;
  return requestCapture(env, config, { ...ask, ...target, rule: onDemandRuleFor(config.rules, rule, type) });
}

/** The command's own rule when it allows captures on demand, else the first that does for its type. */
function onDemandRuleFor(rules: readonly CompiledRule[], ruleName: string, type: string): string {
  const own = rules.find((rule) => rule.name === ruleName);
  if (own && allowsOnDemand(own)) return own.name;
  const same = rules.find((rule) => allowsOnDemand(rule) && rule.command.type === type);
  if (!same)
    throw badRequest(
      `rule: no rule allows a capture on demand of ${type} (rule ${ruleName} does not, and no rule with "operator" among its sources sends ${type})`,
    );
  return same.name;
}
