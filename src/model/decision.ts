import { COMMAND_TYPES, PcapArgs, SpeedTestArgs, WarpDiagArgs } from "./dex-api";
import * as z from "./zod";

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
  "awaiting-approval",
  "denied",
  /** Its device lookup never found room in the DEX API budget while a capture was still useful. */
  "expired",
] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** One decision, as the audit trail stores it and the logs and the audit API show it. */
export const Decision = z.object({
  /** Index of the alert in its delivery. */
  alert: z.number().check(z.int(), z.nonnegative()),
  episode: z.string(),
  outcome: Outcome,
  reason: z.string(),
  rule: z.optional(z.string()),
  type: z.optional(z.enum(COMMAND_TYPES)),
  args: z.optional(z.union([PcapArgs, WarpDiagArgs, SpeedTestArgs])),
  device_id: z.optional(z.string()),
  user_email: z.optional(z.string()),
  registration_id: z.optional(z.string()),
  command_id: z.optional(z.string()),
  /**
   * The command ledger's key of the command this decision is about (episode × rule × device ×
   * type): what the audit trail joins the ledger's view on. Records of release 0.1.0 carry none.
   */
  key: z.optional(z.string()),
});
export type Decision = z.infer<typeof Decision>;
