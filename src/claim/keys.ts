import { sha256Hex } from "../crypto/hmac";
import type { CommandType } from "../dispatch/dex/schemas";

/** One command the relay means to send: the unit idempotency is about. */
export interface CommandIdentity {
  episode: string;
  rule: string;
  device_id: string;
  registration_id?: string;
  type: CommandType;
}

/**
 * One key per alert episode × rule × device × command type. Hashed, because episodes and
 * rule names are free text and KV keys are limited to 512 bytes.
 */
export function idempotencyKey(command: CommandIdentity): Promise<string> {
  return sha256Hex(
    JSON.stringify([command.episode, command.rule, command.device_id, command.registration_id ?? "", command.type]),
  );
}

/** One key per rule × device × command type: what a cooldown is about, whatever the alert. */
export function cooldownKey(command: Omit<CommandIdentity, "episode">): Promise<string> {
  return sha256Hex(JSON.stringify([command.rule, command.device_id, command.registration_id ?? "", command.type]));
}
