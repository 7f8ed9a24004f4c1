import * as z from "zod";
import { SEVERITIES, TARGET_FIELDS } from "../sources/alert";
import { PcapArgs, SpeedTestArgs, WarpDiagArgs } from "../dispatch/dex/schemas";
import { isSlashedPattern, namedGroups, patternError } from "./pattern";

/** The most devices one rule may target for one alert, whatever `max_devices` says. */
export const MAX_DEVICES_PER_ALERT = 10;
/** The most fixed targets one rule may list; these are not capped by `max_devices`. */
export const MAX_RULE_TARGETS = 50;

const RulePattern = z.string().min(1).superRefine((source, ctx) => {
  const error = patternError(source);
  if (error) ctx.addIssue({ code: "custom", message: `invalid regular expression: ${error}` });
});

const TitlePattern = RulePattern.superRefine((source, ctx) => {
  for (const group of namedGroups(source)) {
    if (!(TARGET_FIELDS as readonly string[]).includes(group)) {
      ctx.addIssue({
        code: "custom",
        message: `named group "${group}" is not one of ${TARGET_FIELDS.join(", ")}`,
      });
    }
  }
});

/** A label value is matched exactly, or as a pattern when written `/.../flags`. */
const LabelValue = z.string().superRefine((value, ctx) => {
  if (!isSlashedPattern(value)) return;
  const error = patternError(value);
  if (error) ctx.addIssue({ code: "custom", message: `invalid regular expression: ${error}` });
});

export const RuleMatchSchema = z
  .strictObject({
    source: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("Only alerts from this source (or one of these sources)."),
    severity: z
      .array(z.enum(SEVERITIES))
      .min(1)
      .optional()
      .describe("Only alerts whose normalized severity is one of these."),
    labels: z
      .record(z.string().min(1), LabelValue)
      .optional()
      .describe("Every label must be present and equal, or match when written /regex/flags."),
    title: TitlePattern.optional().describe(
      "A regular expression (or /regex/flags) the title must match. Named groups device_id, user_email, registration_id and hostname fill in the alert's target.",
    ),
  })
  .describe("What an alert must look like for the rule to fire. Every condition given must hold.");

export const RuleCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("pcap"), args: PcapArgs.optional() }),
  z.strictObject({ type: z.literal("warp-diag"), args: WarpDiagArgs.optional() }),
  z.strictObject({ type: z.literal("speed-test"), args: SpeedTestArgs.optional() }),
]);

const TargetIdentity = z.string().trim().min(1).max(256);

/**
 * A device a rule always targets, named the ways an alert can name one: a host name or a
 * user (looked up, eligible devices only), or a device id with its user (used as given;
 * add the registration for a multi-user device).
 */
export const RuleTargetSchema = z.union(
  [
    z.strictObject({ hostname: TargetIdentity }),
    z.strictObject({ user_email: z.email() }),
    z.strictObject({ device_id: TargetIdentity, user_email: z.email(), registration_id: TargetIdentity.optional() }),
  ],
  { error: "a target is { hostname }, { user_email } or { device_id, user_email } (with registration_id for a multi-user device)" },
);

export const RuleSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, '.', '_' and '-', at most 64")
    .describe("Unique; appears in the audit trail and in idempotency keys."),
  match: RuleMatchSchema.default({}),
  command: RuleCommandSchema.describe("The DEX command to run on each device the alert names."),
  cooldown_minutes: z
    .number()
    .int()
    .min(1)
    .max(10080)
    .optional()
    .describe("No second command of this type on the same device within this many minutes."),
  max_devices: z
    .number()
    .int()
    .min(1)
    .max(MAX_DEVICES_PER_ALERT)
    .default(MAX_DEVICES_PER_ALERT)
    .describe("At most this many devices per alert, of those the alert names; the rest are recorded as capped. Fixed targets are not capped."),
  targets: z
    .array(RuleTargetSchema)
    .min(1)
    .max(MAX_RULE_TARGETS)
    .optional()
    .describe(
      "Fixed targets: the command goes to these devices, whatever the alert names (for alerts that name no device, such as Cloudflare's DEX notifications). Cooldowns and the command cap apply per device.",
    ),
});

export const RulesSchema = z
  .array(RuleSchema)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate rule name "${rule.name}"` });
      }
      seen.add(rule.name);
    });
  })
  .describe("dex-alert-relay rules: every rule that matches an alert yields its command.");

export type Rule = z.infer<typeof RuleSchema>;
export type RuleCommand = z.infer<typeof RuleCommandSchema>;
export type RuleTarget = z.infer<typeof RuleTargetSchema>;
