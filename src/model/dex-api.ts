import * as z from "zod";

/**
 * The DEX remote-commands API, as far as the relay uses it. Requests are checked before
 * they leave; responses are parsed before anything trusts them.
 */

export const COMMAND_TYPES = ["pcap", "speed-test", "warp-diag"] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** The API accepts at most this many commands in one create request. */
export const MAX_COMMANDS_PER_REQUEST = 10;

export const PcapArgs = z.strictObject({
  "max-file-size-mb": z.number().min(1).max(50).optional(),
  "packet-size-bytes": z.number().int().min(1).max(1500).optional(),
  "time-limit-min": z.number().min(1).max(10).optional(),
});
export const WarpDiagArgs = z.strictObject({
  "test-all-routes": z.boolean().optional(),
});
export const SpeedTestArgs = z.strictObject({
  interfaces: z.array(z.enum(["default", "tunnel"])).min(1).optional(),
});

/** Allowed args per command type; no other keys are allowed by the API. */
export const ARGS_BY_TYPE = {
  pcap: PcapArgs,
  "warp-diag": WarpDiagArgs,
  "speed-test": SpeedTestArgs,
} as const satisfies Record<CommandType, z.ZodType>;

export type CommandArgs = z.infer<(typeof ARGS_BY_TYPE)[CommandType]>;

/** A command as the create request carries it: args must belong to the type. */
export const CommandInput = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("pcap"),
    device_id: z.string().min(1),
    user_email: z.string().min(1),
    registration_id: z.string().min(1).optional(),
    args: PcapArgs.optional(),
  }),
  z.strictObject({
    type: z.literal("warp-diag"),
    device_id: z.string().min(1),
    user_email: z.string().min(1),
    registration_id: z.string().min(1).optional(),
    args: WarpDiagArgs.optional(),
  }),
  z.strictObject({
    type: z.literal("speed-test"),
    device_id: z.string().min(1),
    user_email: z.string().min(1),
    registration_id: z.string().min(1).optional(),
    args: SpeedTestArgs.optional(),
  }),
]);
export type CommandInput = z.infer<typeof CommandInput>;

export const CreateCommandsRequest = z.strictObject({
  commands: z.array(CommandInput).min(1).max(MAX_COMMANDS_PER_REQUEST),
});
export type CreateCommandsRequest = z.infer<typeof CreateCommandsRequest>;

export const COMMAND_STATUSES = ["PENDING_EXEC", "PENDING_UPLOAD", "SUCCESS", "FAILED"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const ApiMessage = z.object({
  code: z.number(),
  message: z.string(),
  documentation_url: z.string().optional(),
  source: z.object({ pointer: z.string().optional() }).optional(),
});
export type ApiMessage = z.infer<typeof ApiMessage>;

export const ResultInfo = z.object({
  count: z.number().optional(),
  page: z.number().optional(),
  per_page: z.number().optional(),
  total_count: z.number().optional(),
  total_pages: z.number().optional(),
});
export type ResultInfo = z.infer<typeof ResultInfo>;

/** The envelope every Cloudflare API response comes in. */
export function envelope<T extends z.ZodType>(result: T) {
  return z.object({
    success: z.boolean(),
    errors: z.array(ApiMessage).default([]),
    messages: z.array(ApiMessage).default([]),
    result: result.nullish(),
    result_info: ResultInfo.nullish(),
  });
}

/** An envelope whose result is not trusted: used to read `errors[]` from a failure. */
export const FailureEnvelope = z.object({
  success: z.boolean().optional(),
  errors: z.array(ApiMessage).default([]),
});

export const CreatedCommand = z.object({
  id: z.string().optional(),
  args: z.record(z.string(), z.unknown()).nullish(),
  device_id: z.string().optional(),
  registration_id: z.string().nullish(),
  status: z.enum(COMMAND_STATUSES).optional(),
  type: z.string().optional(),
});
export type CreatedCommand = z.infer<typeof CreatedCommand>;

export const CreateCommandsResponse = envelope(
  z.object({ commands: z.array(CreatedCommand).default([]) }),
);

/** An item of `GET /dex/commands`: what reconciliation and the audit trail read. */
export const ListedCommand = z.object({
  id: z.string(),
  completed_date: z.string().nullish(),
  created_date: z.string().nullish(),
  device_id: z.string().nullish(),
  filename: z.string().nullish(),
  registration_id: z.string().nullish(),
  status: z.enum(COMMAND_STATUSES).or(z.string()).nullish(),
  type: z.string().nullish(),
  user_email: z.string().nullish(),
});
export type ListedCommand = z.infer<typeof ListedCommand>;

export const ListCommandsResponse = envelope(
  z.object({ commands: z.array(ListedCommand).nullish().transform((c) => c ?? []) }),
);

/** An item of `GET /dex/commands/devices`: devices connected in the last hour. */
export const Device = z.object({
  deviceId: z.string(),
  deviceName: z.string().nullish(),
  personEmail: z.string().nullish(),
  platform: z.string().nullish(),
  status: z.string().nullish(),
  registrationId: z.string().nullish(),
  eligible: z.boolean().nullish(),
  ineligibleReason: z.string().nullish(),
  timestamp: z.string().nullish(),
  version: z.string().nullish(),
});
export type Device = z.infer<typeof Device>;

export const ListDevicesResponse = envelope(
  z.object({ devices: z.array(Device).nullish().transform((d) => d ?? []) }),
);
