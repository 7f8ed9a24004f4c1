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

/**
 * How commands move on: with time (above), as the demo shows; or only when told
 * (`CommandStore.settle`), for tests that fake the clock and set each status themselves.
 */
export type Progress = "time" | "manual";

/** Where a command stands: its status, and the file and completion time that go with it. */
export interface CommandState {
  status: CommandStatus;
  filename: string | null;
  completed_date: string | null;
}

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
  /** Where it was put by hand (`settle`, `addExisting`): it stays there whatever the clock says. */
  settled?: CommandState;
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

/** A command created outside the stand-in (by another API client, or the dashboard), as the API lists it. */
export type ExistingCommand = Omit<ListedCommandView, "completed_date" | "filename"> & Partial<Pick<ListedCommandView, "completed_date" | "filename">>;

const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set(["SUCCESS", "FAILED"]);

/** In-memory commands of every account, in the order they came in. */
export class CommandStore {
  #commands: StoredCommand[] = [];

  readonly progress: Progress;
  readonly #newId: () => string;

  /**
   * `newId` names each new command: a UUID, as DEX does today, unless a test hands out ids
   * of another shape (the API types them as plain strings).
   */
  constructor({ progress = "time", newId = () => crypto.randomUUID() }: { progress?: Progress; newId?: () => string } = {}) {
    this.progress = progress;
    this.#newId = newId;
  }

  add({ command, registration }: TargetedCommand, now: Date): StoredCommand {
    const stored: StoredCommand = {
      id: this.#newId(),
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

  /** Takes in a command created elsewhere, where it stands: tests of reconciling need one the relay did not create. */
  addExisting({ status, filename = null, completed_date = null, ...command }: ExistingCommand): StoredCommand {
    const stored: StoredCommand = { ...command, args: undefined, willFail: false, settled: { status, filename, completed_date } };
    this.#commands.push(stored);
    return stored;
  }

  /**
   * Puts a command at `status` from now on, with `filename` when it left a file; a final
   * status is completed `at`. What DEX would report once the device has done its part.
   */
  settle(id: string, status: CommandStatus, at: Date, filename: string | null = null): void {
    const command = this.find(id);
    if (!command) throw new Error(`no command ${id} in the DEX stand-in`);
    command.settled = { status, filename, completed_date: FINAL_STATUSES.has(status) ? at.toISOString() : null };
  }

  find(id: string): StoredCommand | undefined {
    return this.#commands.find((command) => command.id === id);
  }

  /** Every command, in the order they came in. */
  inOrder(): readonly StoredCommand[] {
    return this.#commands;
  }

  /** Every command, the latest `created_date` first, as the list endpoint answers. */
  newestFirst(): StoredCommand[] {
    return this.#commands.toReversed().sort((a, b) => Date.parse(b.created_date) - Date.parse(a.created_date));
  }

  /** Where a command stands at `now`: where it was settled, else where time (or, manual, nothing) has moved it. */
  viewAt(command: StoredCommand, now: Date): ListedCommandView {
    if (command.settled) return listed(command, command.settled);
    if (this.progress === "manual") return listed(command, { status: "PENDING_EXEC", filename: null, completed_date: null });
    return timedView(command, now);
  }

  clear(): void {
    this.#commands = [];
  }
}

/** The list item for `command` standing at `state`, with the API's keys in the API's order. */
function listed(command: StoredCommand, { status, filename, completed_date }: CommandState): ListedCommandView {
  const { id, created_date, device_id, registration_id, type, user_email } = command;
  return { id, completed_date, created_date, device_id, filename, registration_id, status, type, user_email };
}

/** Where a command stands at `now`, moved on by time alone. */
function timedView(command: StoredCommand, now: Date): ListedCommandView {
  const age = now.getTime() - Date.parse(command.created_date);
  const done = age >= COMPLETE_AFTER_MS;
  const hasArtifact = ARTIFACT_TYPES.has(command.type);
  let status: CommandStatus = "PENDING_EXEC";
  if (done) status = command.willFail ? "FAILED" : "SUCCESS";
  else if (hasArtifact && !command.willFail && age >= UPLOAD_AFTER_MS) status = "PENDING_UPLOAD";
  return listed(command, {
    status,
    filename: status === "SUCCESS" && hasArtifact ? `${command.type}-${command.id}.zip` : null,
    completed_date: done ? new Date(Date.parse(command.created_date) + COMPLETE_AFTER_MS).toISOString() : null,
  });
}

/**
 * The item the create call returns. The API documents `args` as a map of strings, so
 * values come back as text.
 */
export function createdView(command: StoredCommand, view: ListedCommandView) {
  const args = Object.fromEntries(Object.entries(command.args ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const { id, device_id, registration_id, status, type } = view;
  return { id, args, device_id, registration_id, status, type };
}
