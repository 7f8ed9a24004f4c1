import { CreateCommandsRequest, type ApiMessage, type CommandInput } from "../../src/model/dex-api";
import { registrationsOf, type AccountDevice } from "./devices";
import { ApiFailure, ERROR_CODES, issueToError, readJson } from "./envelope";

/** A command the API would accept, with the registration it lands on. */
export interface TargetedCommand {
  command: CommandInput;
  registration: AccountDevice;
}

/**
 * Reads a create request the way the API does: the seed's rules (at most 10 commands,
 * known types, args that belong to the type, no other keys), then the account's `devices`
 * (known device, and a registration named on a multi-user device). Every problem is
 * reported at once, each with a `source.pointer` into the body.
 */
export function readCreateRequest(text: string, devices: readonly AccountDevice[]): TargetedCommand[] {
  const parsed = CreateCommandsRequest.safeParse(readJson(text));
  if (!parsed.success) throw new ApiFailure(400, parsed.error.issues.map(issueToError));

  const errors: ApiMessage[] = [];
  const targeted: TargetedCommand[] = [];
  parsed.data.commands.forEach((command, i) => {
    const found = findRegistration(devices, command, `/commands/${i}`);
    if ("error" in found) errors.push(found.error);
    else targeted.push({ command, registration: found.registration });
  });
  if (errors.length > 0) throw new ApiFailure(400, errors);
  return targeted;
}

function findRegistration(devices: readonly AccountDevice[], command: CommandInput, pointer: string): { registration: AccountDevice } | { error: ApiMessage } {
  const registrations = registrationsOf(devices, command.device_id);
  if (registrations.length === 0) {
    return { error: problem(ERROR_CODES.unknownDevice, "device_id is not a device of this account", `${pointer}/device_id`) };
  }
  if (command.registration_id !== undefined) {
    const registration = registrations.find((r) => r.registrationId === command.registration_id);
    if (registration) return { registration };
    return {
      error: problem(ERROR_CODES.unknownRegistration, "registration_id is not a registration of this device", `${pointer}/registration_id`),
    };
  }
  const [only, ...others] = registrations;
  if (only && others.length === 0) return { registration: only };
  return {
    error: problem(ERROR_CODES.registrationRequired, "registration_id is required for a multi-user device", `${pointer}/registration_id`),
  };
}

function problem(code: number, message: string, pointer: string): ApiMessage {
  return { code, message, source: { pointer } };
}
