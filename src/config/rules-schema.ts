import { SEVERITIES, TARGET_FIELDS } from "../model/alert";
import { PcapArgs, SpeedTestArgs, WarpDiagArgs } from "../model/dex-api";
import { CHANNELS } from "../model/channels";
import * as z from "../model/zod";
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

/** A command that needs approval waits this long for a person by default, then expires unsent. */
export const DEFAULT_APPROVAL_MINUTES = 30;
/** The longest a command may wait for approval: a capture approved a day later shows nothing of the problem. */
export const MAX_APPROVAL_MINUTES = 1440;

const NonEmpty = z.string().check(z.minLength(1));

const RulePattern = NonEmpty.check(
  z.superRefine((source, ctx) => {
    const error = patternError(source);
    if (error) ctx.addIssue({ code: "custom", message: error });
  }),
);

const TitlePattern = RulePattern.check(
  z.superRefine((source, ctx) => {
    for (const group of namedGroups(source)) {
      if (!(TARGET_FIELDS as readonly string[]).includes(group)) {
        ctx.addIssue({
          code: "custom",
          message: `named group "${group}" is not one of ${TARGET_FIELDS.join(", ")}`,
        });
      }
    }
  }),
);

/** A label value is matched exactly, or as a pattern when written `/.../flags`. */
const LabelValue = z.string().check(
  z.superRefine((value, ctx) => {
    if (!isSlashedPattern(value)) return;
    const error = patternError(value);
    if (error) ctx.addIssue({ code: "custom", message: error });
  }),
);

/** `schema` with a description for editors, as schema/rules.schema.json shows it. */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  return schema.check(z.describe(description)) as T;
}

export const RuleMatchSchema = described(
  z.strictObject({
    source: described(
      z.optional(z.union([NonEmpty, z.array(NonEmpty).check(z.minLength(1))])),
      'Only alerts from this source (or one of these sources); "operator" lets the rule be asked for on demand.',
    ),
    severity: described(z.optional(z.array(z.enum(SEVERITIES)).check(z.minLength(1))), "Only alerts whose normalized severity is one of these."),
    labels: described(z.optional(z.record(NonEmpty, LabelValue)), "Every label must be present and equal, or match when written /regex/flags."),
    title: described(
      z.optional(TitlePattern),
      "A regular expression (or /regex/flags) the title must match. Named groups device_id, user_email, registration_id and hostname fill in the alert's target.",
    ),
  }),
  "What an alert must look like for the rule to fire. Every condition given must hold.",
);

export const RuleCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("pcap"), args: z.optional(PcapArgs) }),
  z.strictObject({ type: z.literal("warp-diag"), args: z.optional(WarpDiagArgs) }),
  z.strictObject({ type: z.literal("speed-test"), args: z.optional(SpeedTestArgs) }),
]);

const TargetIdentity = z.string().check(z.trim(), z.minLength(1), z.maxLength(256));

/**
 * A device a rule always targets, named the ways an alert can name one: a host name or a
 * user (looked up, eligible devices only), or a device id with its user (used as given;
 * add the registration for a multi-user device).
 */
export const RuleTargetSchema = z.union(
  [
    z.strictObject({ hostname: TargetIdentity }),
    z.strictObject({ user_email: z.email() }),
    z.strictObject({ device_id: TargetIdentity, user_email: z.email(), registration_id: z.optional(TargetIdentity) }),
  ],
  { error: "a target is { hostname }, { user_email } or { device_id, user_email } (with registration_id for a multi-user device)" },
);

/** The most approvers one rule may name. */
export const MAX_APPROVERS = 50;

/** A Slack user id (`U0123ABCD`, or `W…` on Enterprise Grid) or an email, as Access names a console operator. */
const Approver = z.union([z.string().check(z.regex(/^[UW][A-Z0-9]{2,20}$/)), z.email()], {
  error: "an approver is a Slack user id (U…) or an email",
});

/**
 * A person approves each command of the rule, from Slack or the console, before it is sent;
 * until then nothing reaches the DEX API. For captures of someone's private traffic.
 */
export const RuleApprovalSchema = described(
  z.strictObject({
    expires_minutes: described(
      z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_APPROVAL_MINUTES)), DEFAULT_APPROVAL_MINUTES),
      `How long the command waits for a decision, then expires unsent; default ${DEFAULT_APPROVAL_MINUTES}, at most ${MAX_APPROVAL_MINUTES}.`,
    ),
    approvers: described(
      z.optional(z.array(Approver).check(z.minLength(1), z.maxLength(MAX_APPROVERS))),
      `Who may approve or deny: Slack user ids (U…) and Cloudflare Access emails, at most ${MAX_APPROVERS}. Unset: anyone in the Slack channel and every console operator. With a list, the admin token cannot decide: it names no person.`,
    ),
  }),
  "A person approves each command (Slack buttons, or the console) before it is sent; denied or undecided commands are never sent.",
);

export const RuleSchema = z.strictObject({
  name: described(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, '.', '_' and '-', at most 64")),
    "Unique; appears in the audit trail and in idempotency keys.",
  ),
  match: z._default(RuleMatchSchema, {}),
  command: described(RuleCommandSchema, "The DEX command to run on each device the alert names."),
  cooldown_minutes: described(
    z._default(z.number().check(z.int(), z.gte(0), z.lte(10080)), DEFAULT_COOLDOWN_MINUTES),
    `No second command of this type on the same device within this many minutes; default ${DEFAULT_COOLDOWN_MINUTES}, 0 for none.`,
  ),
  hostname_match: described(
    z._default(z.enum(["exact", "short-name"]), "exact"),
    "How a host name from the alert is compared with device names: exact (case-insensitive, the default), or short-name, where only the first label counts (build-07.corp.example.com = BUILD-07).",
  ),
  trust: described(
    z.optional(z.record(NonEmpty, z.array(z.enum(TRUST_ENTRIES)))),
    'Which target fields the rule takes from which source: { zapier = ["user_email"], pagerduty = ["title.user_email"], "*" = [...] }. A plain field comes from the alert itself, title.<field> from a named group in this rule\'s title (or, for a rule without one, in the titles of the other rules that match). A source not listed (and no "*") names no target. Without trust: every field of the alert, and this rule\'s own title groups.',
  ),
  max_devices: described(
    z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_DEVICES_PER_ALERT)), MAX_DEVICES_PER_ALERT),
    "At most this many devices per alert, of those the alert names; the rest are recorded as capped. Fixed targets are not capped.",
  ),
  targets: described(
    z.optional(z.array(RuleTargetSchema).check(z.minLength(1), z.maxLength(MAX_RULE_TARGETS))),
    "Fixed targets: the command goes to these devices, whatever the alert names (for alerts that name no device, such as Cloudflare's DEX notifications). Cooldowns and the command cap apply per device.",
  ),
  notify: described(
    z.optional(z.array(z.enum(CHANNELS)).check(z.maxLength(CHANNELS.length))),
    "Where to report the commands this rule starts and how they end; every configured channel when unset, none when empty.",
  ),
  approval: z.optional(RuleApprovalSchema),
});

export const RulesSchema = described(
  z.array(RuleSchema).check(
    z.superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((rule, index) => {
        if (seen.has(rule.name)) {
          ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate rule name "${rule.name}"` });
        }
        seen.add(rule.name);
      });
    }),
  ),
  "dex-alert-relay rules: every rule that matches an alert yields its command.",
);

export type Rule = z.infer<typeof RuleSchema>;
export type RuleCommand = z.infer<typeof RuleCommandSchema>;
export type RuleTarget = z.infer<typeof RuleTargetSchema>;
export type RuleApproval = z.infer<typeof RuleApprovalSchema>;
