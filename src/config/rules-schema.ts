import * as z from "zod";
import { SEVERITIES, TARGET_FIELDS } from "../model/alert";
import { PcapArgs, SpeedTestArgs, WarpDiagArgs } from "../model/dex-api";
import { CHANNELS } from "../model/channels";
import { isSlashedPattern, namedGroups, patternError } from "./pattern";

/** The most devices one rule may target for one alert, whatever `max_devices` says. */
export const MAX_DEVICES_PER_ALERT = 10;
/**
 * A rule that says nothing sends its command to a device at most once in this many minutes,
 * however many alerts (or variants of one alert) name it. `cooldown_minutes = 0` turns it off.
 */
export const DEFAULT_COOLDOWN_MINUTES = 30;

/** `user_email` trusts the alert's own field; `title.user_email` a named group in a title. */
export const TRUST_ENTRIES = [...TARGET_FIELDS, ...TARGET_FIELDS.map((field) => `title.${field}` as const)] as const;
export type TrustEntry = (typeof TRUST_ENTRIES)[number];
/** The key of `trust` that stands for every source the rule does not list. */
export const ANY_SOURCE = "*";

/** The most fixed targets one rule may list; these are not capped by `max_devices`. */
export const MAX_RULE_TARGETS = 50;

const RulePattern = z.string().min(1).superRefine((source, ctx) => {
  const error = patternError(source);
  if (error) ctx.addIssue({ code: "custom", message: error });
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
  if (error) ctx.addIssue({ code: "custom", message: error });
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
    .min(0)
    .max(10080)
    .default(DEFAULT_COOLDOWN_MINUTES)
    .describe(`No second command of this type on the same device within this many minutes; default ${DEFAULT_COOLDOWN_MINUTES}, 0 for none.`),
  hostname_match: z
    .enum(["exact", "short-name"])
    .default("exact")
    .describe(
      "How a host name from the alert is compared with device names: exact (case-insensitive, the default), or short-name, where only the first label counts (build-07.corp.example.com = BUILD-07).",
    ),
  trust: z
    .record(z.string().min(1), z.array(z.enum(TRUST_ENTRIES)))
    .optional()
    .describe(
      'Which target fields the rule takes from which source: { zapier = ["user_email"], pagerduty = ["title.user_email"], "*" = [...] }. A plain field comes from the alert itself, title.<field> from a named group in this rule\'s title (or, for a rule without one, in the titles of the other rules that match). A source not listed (and no "*") names no target. Without trust: every field of the alert, and this rule\'s own title groups.',
    ),
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
  notify: z
    .array(z.enum(CHANNELS))
    .max(CHANNELS.length)
    .optional()
    .describe("Where to report the commands this rule starts and how they end; every configured channel when unset, none when empty."),
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
