import type { CommandArgs, CommandType } from "../dispatch/dex/schemas";

/**
 * Why an alert did or did not become a command. Every alert gets at least one decision,
 * and every rule × device it reached gets its own.
 */
export const OUTCOMES = [
  "created",
  "would-create",
  "duplicate",
  "cooldown",
  "capped",
  "no-rule",
  "not-firing",
  "device-not-found",
  "device-ineligible",
  "device-ambiguous",
  "failed",
  "retrying",
  "waiting",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Decision {
  /** Index of the alert in its delivery. */
  alert: number;
  episode: string;
  outcome: Outcome;
  reason: string;
  rule?: string;
  type?: CommandType;
  args?: CommandArgs;
  device_id?: string;
  user_email?: string;
  registration_id?: string;
  command_id?: string;
}
