import * as z from "./zod";

/**
 * The DEX remote-commands API, as far as the relay uses it. Requests are checked before
 * they leave; responses are parsed before anything trusts them.
 */

export const COMMAND_TYPES = ["pcap", "speed-test", "warp-diag"] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** The API accepts at most this many commands in one create request. */
export const MAX_COMMANDS_PER_REQUEST = 10;

export const PcapArgs = z.strictObject({
  "max-file-size-mb": z.optional(z.number().check(z.gte(1), z.lte(50))),
  "packet-size-bytes": z.optional(z.number().check(z.int(), z.gte(1), z.lte(1500))),
  "time-limit-min": z.optional(z.number().check(z.gte(1), z.lte(10))),
});
export const WarpDiagArgs = z.strictObject({
  "test-all-routes": z.optional(z.boolean()),
});
export const SpeedTestArgs = z.strictObject({
  interfaces: z.optional(z.array(z.enum(["default", "tunnel"])).check(z.minLength(1))),
});

/** Allowed args per command type; no other keys are allowed by the API. */
export const ARGS_BY_TYPE = {
  pcap: PcapArgs,
  "warp-diag": WarpDiagArgs,
  "speed-test": SpeedTestArgs,
} as const satisfies Record<CommandType, z.ZodMiniType>;

export type CommandArgs = z.infer<(typeof ARGS_BY_TYPE)[CommandType]>;

const NonEmpty = z.string().check(z.minLength(1));
/** The device (and, on a multi-user device, the registration) a command runs on. */
const CommandTarget = { device_id: NonEmpty, user_email: NonEmpty, registration_id: z.optional(NonEmpty) };

/** A command as the create request carries it: args must belong to the type. */
export const CommandInput = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("pcap"), ...CommandTarget, args: z.optional(PcapArgs) }),
  z.strictObject({ type: z.literal("warp-diag"), ...CommandTarget, args: z.optional(WarpDiagArgs) }),
  z.strictObject({ type: z.literal("speed-test"), ...CommandTarget, args: z.optional(SpeedTestArgs) }),
]);
export type CommandInput = z.infer<typeof CommandInput>;

export const CreateCommandsRequest = z.strictObject({
  commands: z.array(CommandInput).check(z.minLength(1), z.maxLength(MAX_COMMANDS_PER_REQUEST)),
});
export type CreateCommandsRequest = z.infer<typeof CreateCommandsRequest>;

export const COMMAND_STATUSES = ["PENDING_EXEC", "PENDING_UPLOAD", "SUCCESS", "FAILED"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const ApiMessage = z.object({
  code: z.number(),
  message: z.string(),
  documentation_url: z.optional(z.string()),
  source: z.optional(z.object({ pointer: z.optional(z.string()) })),
});
export type ApiMessage = z.infer<typeof ApiMessage>;

export const ResultInfo = z.object({
  count: z.optional(z.number()),
  page: z.optional(z.number()),
  per_page: z.optional(z.number()),
  total_count: z.optional(z.number()),
  total_pages: z.optional(z.number()),
});
export type ResultInfo = z.infer<typeof ResultInfo>;

const ApiMessages = z._default(z.array(ApiMessage), []);

/** The envelope every Cloudflare API response comes in. */
export function envelope<T extends z.ZodMiniType>(result: T) {
  return z.object({
    success: z.boolean(),
    errors: ApiMessages,
    messages: ApiMessages,
    result: z.nullish(result),
    result_info: z.nullish(ResultInfo),
  });
}

/** An envelope whose result is not trusted: used to read `errors[]` from a failure. */
export const FailureEnvelope = z.object({
  success: z.optional(z.boolean()),
  errors: ApiMessages,
});

export const CreatedCommand = z.object({
  id: z.optional(z.string()),
  args: z.nullish(z.record(z.string(), z.unknown())),
  device_id: z.optional(z.string()),
  registration_id: z.nullish(z.string()),
  status: z.optional(z.enum(COMMAND_STATUSES)),
  type: z.optional(z.string()),
});
export type CreatedCommand = z.infer<typeof CreatedCommand>;

export const CreateCommandsResponse = envelope(z.object({ commands: z._default(z.array(CreatedCommand), []) }));

/** A list that may come back as `null`: read as empty. */
function listOf<T extends z.ZodMiniType>(item: T) {
  return z.pipe(
    z.nullish(z.array(item)),
    z.transform((items) => items ?? []),
  );
}

/** An item of `GET /dex/commands`: what reconciliation and the audit trail read. */
export const ListedCommand = z.object({
  id: z.string(),
  completed_date: z.nullish(z.string()),
  created_date: z.nullish(z.string()),
  device_id: z.nullish(z.string()),
  filename: z.nullish(z.string()),
  registration_id: z.nullish(z.string()),
  status: z.nullish(z.union([z.enum(COMMAND_STATUSES), z.string()])),
  type: z.nullish(z.string()),
  user_email: z.nullish(z.string()),
});
export type ListedCommand = z.infer<typeof ListedCommand>;

export const ListCommandsResponse = envelope(z.object({ commands: listOf(ListedCommand) }));

/** An item of `GET /dex/commands/devices`: devices connected in the last hour. */
export const Device = z.object({
  deviceId: z.string(),
  deviceName: z.nullish(z.string()),
  personEmail: z.nullish(z.string()),
  platform: z.nullish(z.string()),
  status: z.nullish(z.string()),
  registrationId: z.nullish(z.string()),
  eligible: z.nullish(z.boolean()),
  ineligibleReason: z.nullish(z.string()),
  timestamp: z.nullish(z.string()),
  version: z.nullish(z.string()),
});
export type Device = z.infer<typeof Device>;

export const ListDevicesResponse = envelope(z.object({ devices: listOf(Device) }));

/**
 * `GET /dex/commands/quota`. The API documents `quota` both as the total the account may
 * create and as what is left of it (its SDKs say "remaining", its reference page "total"):
 * src/ledger/quota.ts reads it so that either is safe.
 */
export const CommandQuota = z.object({
  quota: z.number(),
  quota_usage: z.number(),
  reset_time: z.iso.datetime({ offset: true }),
});
export type CommandQuota = z.infer<typeof CommandQuota>;

export const CommandQuotaResponse = envelope(CommandQuota);
