import * as z from "zod";
import { COMMAND_TYPES, PcapArgs, SpeedTestArgs, WarpDiagArgs } from "./dex-api";

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
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** One decision, as the audit trail stores it and the logs and the audit API show it. */
export const Decision = z.object({
  /** Index of the alert in its delivery. */
  alert: z.number().int().nonnegative(),
  episode: z.string(),
  outcome: Outcome,
  reason: z.string(),
  rule: z.string().optional(),
  type: z.enum(COMMAND_TYPES).optional(),
  args: z.union([PcapArgs, WarpDiagArgs, SpeedTestArgs]).optional(),
  device_id: z.string().optional(),
  user_email: z.string().optional(),
  registration_id: z.string().optional(),
  command_id: z.string().optional(),
});
export type Decision = z.infer<typeof Decision>;
