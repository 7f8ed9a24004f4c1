import { sha256Hex } from "../crypto/hmac";
import type { CommandType } from "../model/dex-api";

/** One command the relay means to send: the unit exactly-once is about. */
export interface CommandIdentity {
  episode: string;
  rule: string;
  /** The device as the devices API resolved it, however the alert named it. */
  device_id: string;
  type: CommandType;
}

/**
 * One key per alert episode × rule × device × command type. Hashed, because episodes and
 * rule names are free text of any length.
 */
export function idempotencyKey(command: CommandIdentity): Promise<string> {
  return sha256Hex(JSON.stringify([command.episode, command.rule, command.device_id, command.type]));
}

/**
 * One key per rule × device × command type: what a cooldown is about, whatever the alert
 * and whichever user session of a shared device it named.
 */
export function cooldownKey(command: Omit<CommandIdentity, "episode">): Promise<string> {
  return sha256Hex(JSON.stringify([command.rule, command.device_id, command.type]));
}
