import type { RelayConfig } from "../config/settings";
import { commandLedger } from "../ledger/ledger-stub";
import { notFound } from "../model/http-errors";
import { requestCapture, type CaptureQueued } from "../receive/request-capture";

/** Longer than any DEX command id: such an id is not looked up. */
const MAX_COMMAND_ID_LENGTH = 256;

/**
 * Runs a command the relay created once more, on the same device, under the same rule, for the
 * same incident: what a "Capture again" button asks for. The button carries only the command
 * id, and the command ledger, not the button, says which rule and device that is, so a
 * request can only repeat a command the relay made. It is a capture on demand like any other:
 * refused unless the rule allows captures on demand, and held by its cooldown and the cap.
 * 404 for a command the ledger does not hold (it forgets final commands after
 * `IDEMPOTENCY_TTL_HOURS`).
 */
export async function captureAgain(
  env: Env,
  config: RelayConfig,
  request: { command_id: string; requested_by: string; via: "slack" | "console" | "api"; idempotency_key?: string },
): Promise<CaptureQueued> {
  const { command_id, ...ask } = request;
  const made = command_id.length <= MAX_COMMAND_ID_LENGTH ? await commandLedger(env, config.accountId).madeCommand(command_id) : undefined;
  if (!made) throw notFound("no such command: it is not one the relay created, or the ledger no longer holds it");
  return requestCapture(env, config, { ...ask, ...made });
}
