import type { CommandInput, CommandStatus, CommandType } from "../../src/model/dex-api";
import type { TargetedCommand } from "./create-request";

/**
 * Seconds after creation at which a command moves on, computed on every read so the
 * stand-in needs no timers: artifact commands go to PENDING_UPLOAD, then all finish.
 */
export const UPLOAD_AFTER_MS = 10_000;
export const COMPLETE_AFTER_MS = 20_000;

/** Commands whose result is a file to download. */
const ARTIFACT_TYPES: ReadonlySet<CommandType> = new Set(["pcap", "warp-diag"]);

/** A command as the stand-in keeps it. */
export interface StoredCommand {
  id: string;
  type: CommandType;
  args: CommandInput["args"];
  device_id: string;
  registration_id: string;
  user_email: string;
  created_date: string;
  /** An ineligible device accepts the command but never runs it. */
  willFail: boolean;
}

/** The item `GET /dex/commands` returns. */
export interface ListedCommandView {
  id: string;
  completed_date: string | null;
  created_date: string;
  device_id: string;
  filename: string | null;
  registration_id: string;
  status: CommandStatus;
  type: CommandType;
  user_email: string;
}

/** In-memory commands of every account, oldest first. */
export class CommandStore {
  #commands: StoredCommand[] = [];

  add({ command, registration }: TargetedCommand, now: Date): StoredCommand {
    const stored: StoredCommand = {
      id: crypto.randomUUID(),
      type: command.type,
      args: command.args,
      device_id: command.device_id,
      registration_id: registration.registrationId,
      user_email: command.user_email,
      created_date: now.toISOString(),
      willFail: !registration.eligible,
    };
    this.#commands.push(stored);
    return stored;
  }

  newestFirst(): StoredCommand[] {
    return this.#commands.toReversed();
  }

  clear(): void {
    this.#commands = [];
  }
}

/** Where a command stands at `now`. */
export function viewAt(command: StoredCommand, now: Date): ListedCommandView {
  const age = now.getTime() - Date.parse(command.created_date);
  const done = age >= COMPLETE_AFTER_MS;
  const hasArtifact = ARTIFACT_TYPES.has(command.type);
  let status: CommandStatus = "PENDING_EXEC";
  if (done) status = command.willFail ? "FAILED" : "SUCCESS";
  else if (hasArtifact && !command.willFail && age >= UPLOAD_AFTER_MS) status = "PENDING_UPLOAD";
  return {
    id: command.id,
    completed_date: done ? new Date(Date.parse(command.created_date) + COMPLETE_AFTER_MS).toISOString() : null,
    created_date: command.created_date,
    device_id: command.device_id,
    filename: status === "SUCCESS" && hasArtifact ? `${command.type}-${command.id}.zip` : null,
    registration_id: command.registration_id,
    status,
    type: command.type,
    user_email: command.user_email,
  };
}

/**
 * The item the create call returns. The API documents `args` as a map of strings, so
 * values come back as text.
 */
export function createdView(command: StoredCommand, now: Date) {
  const args = Object.fromEntries(
    Object.entries(command.args ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  const { id, device_id, registration_id, status, type } = viewAt(command, now);
  return { id, args, device_id, registration_id, status, type };
}
