import { isDexApiError, isQuotaRefusal, type DexApiError } from "../model/dex-api-error";
import { MAX_COMMANDS_PER_REQUEST, type CommandInput, type CreatedCommand } from "../model/dex-api";

/** What became of one command. */
export type SendResult =
  | { state: "created"; command_id: string }
  /** The API refused it for good (4xx other than 429): recorded, never retried. */
  | { state: "failed"; error: string }
  /** Nothing was created; try again after the lockout. */
  | { state: "rate-limited"; retryAfterSeconds: number }
  /** Nothing was created: the account's command quota is spent. Try again once it resets. */
  | { state: "quota-spent"; error: string }
  /** It may or may not have been created (5xx, timeout, lost connection): reconcile before retrying. */
  | { state: "uncertain"; error: string };

export interface CommandCreator {
  createCommands(commands: CommandInput[]): Promise<CreatedCommand[]>;
}

/** Statuses that mean "something in this batch is wrong", worth isolating the bad command. */
const BATCH_CONTENT_ERRORS = new Set([400, 422, undefined]);

/**
 * Sends commands in as few create calls as the API's 10-per-request limit allows. A batch
 * refused because of one bad command is split so the good ones still go out; a 429 stops
 * everything that has not been sent yet. A batch refused because the account's command
 * quota is spent is halved too, since a smaller one may fit in what is left; once a single
 * command is refused for it, nothing more is sent.
 */
export async function sendCommands(client: CommandCreator, commands: readonly CommandInput[]): Promise<{ results: SendResult[]; calls: number }> {
  const results: SendResult[] = new Array(commands.length);
  let calls = 0;
  /** Set once nothing more may be sent in this call: what every command not sent yet gets. */
  let stopped: SendResult | undefined;

  async function send(indexes: number[]): Promise<void> {
    if (stopped) {
      for (const i of indexes) results[i] = stopped;
      return;
    }
    calls++;
    try {
      const created = await client.createCommands(indexes.map((i) => commands[i]!));
      assignCreated(indexes, created);
    } catch (error) {
      if (!isDexApiError(error)) throw error;
      await handleFailure(indexes, error);
    }
  }

  async function handleFailure(indexes: number[], error: DexApiError): Promise<void> {
    // Before the 429 check: the API may refuse a spent quota with a 429 as well.
    const quotaSpent = isQuotaRefusal(error);
    if (quotaSpent && indexes.length > 1) return halve(indexes);
    if (quotaSpent) stopped = { state: "quota-spent", error: error.message };
    else if (error.kind === "rate-limited") stopped = { state: "rate-limited", retryAfterSeconds: error.retryAfterSeconds ?? 300 };
    if (stopped) {
      for (const i of indexes) results[i] = stopped;
      return;
    }
    if (error.kind === "ambiguous") {
      for (const i of indexes) results[i] = { state: "uncertain", error: error.message };
      return;
    }
    if (indexes.length === 1 || !BATCH_CONTENT_ERRORS.has(error.status)) {
      for (const i of indexes) results[i] = { state: "failed", error: error.message };
      return;
    }
    const culprit = pointedCommand(error, indexes.length);
    if (culprit !== undefined) {
      results[indexes[culprit]!] = { state: "failed", error: error.message };
      await send(indexes.filter((_, position) => position !== culprit));
      return;
    }
    // The API did not say which command it refused: halve until the bad one is alone.
    await halve(indexes);
  }

  async function halve(indexes: number[]): Promise<void> {
    const middle = Math.ceil(indexes.length / 2);
    await send(indexes.slice(0, middle));
    await send(indexes.slice(middle));
  }

  /** Pairs created commands with what was sent by device, registration and type, not by position alone. */
  function assignCreated(indexes: number[], created: CreatedCommand[]): void {
    const unclaimed = [...created];
    for (const i of indexes) {
      const sent = commands[i]!;
      const at = unclaimed.findIndex(
        (c) =>
          (c.device_id ?? sent.device_id) === sent.device_id &&
          (c.type ?? sent.type) === sent.type &&
          // The API fills in the registration of a single-user device: compare only what was sent.
          (!sent.registration_id || !c.registration_id || c.registration_id === sent.registration_id),
      );
      const match = at >= 0 ? unclaimed.splice(at, 1)[0] : undefined;
      results[i] = match?.id
        ? { state: "created", command_id: match.id }
        : { state: "uncertain", error: "the API accepted the request but did not return this command" };
    }
  }

  for (let start = 0; start < commands.length; start += MAX_COMMANDS_PER_REQUEST) {
    const chunk = Array.from({ length: Math.min(MAX_COMMANDS_PER_REQUEST, commands.length - start) }, (_, k) => start + k);
    await send(chunk);
  }
  return { results, calls };
}

/** `/commands/3/args` names the fourth command of the request. */
function pointedCommand(error: DexApiError, size: number): number | undefined {
  for (const e of error.errors) {
    const match = /^\/commands\/(\d+)(\/|$)/.exec(e.source?.pointer ?? "");
    const index = match ? Number(match[1]) : NaN;
    if (Number.isInteger(index) && index < size) return index;
  }
  return undefined;
}
