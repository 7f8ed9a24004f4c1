import type * as z from "../model/zod";
import {
  CLIENT_REFUSAL_CODE,
  DexApiError,
  RATE_LIMIT_LOCKOUT_SECONDS,
  errorFromResponse,
  errorFromUnsuccessfulEnvelope,
  isDexApiError,
} from "../model/dex-api-error";
import {
  CommandQuotaResponse,
  CreateCommandsRequest,
  CreateCommandsResponse,
  ListCommandsResponse,
  ListDevicesResponse,
  type ApiMessage,
  type CommandInput,
  type CommandQuota,
  type CommandStatus,
  type CommandType,
  type CreatedCommand,
  type Device,
  type ListedCommand,
  type ResultInfo,
} from "../model/dex-api";

/** What every response schema of the DEX API model yields, whatever its `result`. */
interface Envelope {
  success: boolean;
  errors: ApiMessage[];
}

/** A DEX call that has not answered by then is abandoned and reported as ambiguous. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The API's page-size ceiling for both list endpoints. */
export const MAX_PER_PAGE = 50;

/** How to reach the DEX API for one account. */
export interface DexClientOptions {
  /** `https://api.cloudflare.com/client/v4`, with or without a trailing slash. */
  baseUrl: string;
  accountId: string;
  /** An API token with DEX Write (to create) or DEX Read (to list). */
  token: string;
  timeoutMs?: number;
  /** The clock used to read an HTTP-date `Retry-After`; tests pass a fixed one. */
  now?: () => Date;
  /** The relay's one budget of DEX API calls: asked before every call, told of every 429. */
  gate?: ApiGate;
}

/**
 * The relay's shared budget of DEX API calls (the command ledger holds it). Every call the
 * relay makes, whatever it is for, asks first; a 429 on any of them stops all of them.
 */
export interface ApiGate {
  /** 0 when `calls` may go out now (and are counted), else the seconds to wait. */
  take(calls: number): number | Promise<number>;
  /** The API answered 429: no call goes out for `seconds`. */
  lockOut(seconds: number): void | Promise<void>;
}

/** Filters of `GET /dex/commands`, named as the API names them. */
export interface ListCommandsQuery {
  /** From 1; 1 when not given. */
  page?: number;
  /** 1 to 50; 50 when not given. */
  per_page?: number;
  from?: Date | string;
  to?: Date | string;
  device_id?: string;
  user_email?: string;
  command_type?: CommandType;
  status?: CommandStatus;
}

/** One page of `GET /dex/commands`. */
export interface CommandsPage {
  commands: ListedCommand[];
  resultInfo?: ResultInfo;
}

/** One page of `GET /dex/commands/devices`. */
export interface DevicesPage {
  devices: Device[];
  resultInfo?: ResultInfo;
}

/**
 * The DEX remote-commands API, as the relay calls it. Every failure is a DexApiError whose
 * `kind` tells the caller what is safe to do next; nothing is retried here, because a
 * retried create can duplicate commands.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/dex/subresources/commands/
 */
export class DexClient {
  readonly #commandsUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #now: () => Date;
  readonly #gate: ApiGate | undefined;

  constructor(options: DexClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, "");
    this.#commandsUrl = `${base}/accounts/${encodeURIComponent(options.accountId)}/dex/commands`;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#now = options.now ?? (() => new Date());
    this.#gate = options.gate;
  }

  /**
   * `POST /accounts/{id}/dex/commands`: up to 10 commands in one request. The batch is
   * checked against the API's rules first, so a command the API would refuse never leaves;
   * the refusal's `errors[].source.pointer` names the offending part (`/commands/3/args`).
   * An `ambiguous` failure may still have created the commands: reconcile with listCommands.
   */
  async createCommands(commands: CommandInput[]): Promise<CreatedCommand[]> {
    const request = CreateCommandsRequest.safeParse({ commands });
    if (!request.success) throw refusedBeforeSending(request.error);
    const body = await this.#call(CreateCommandsResponse, this.#commandsUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request.data),
    });
    // A success that lists nothing cannot be told apart from a create that went nowhere.
    if (!body.result) throw new DexApiError("ambiguous", "DEX API create answered without a result");
    return body.result.commands;
  }

  /**
   * `GET /accounts/{id}/dex/commands`: commands already created, filtered. Used to
   * reconcile after an ambiguous create and to follow a command's status.
   */
  async listCommands(query: ListCommandsQuery = {}): Promise<CommandsPage> {
    // Paging is always sent: older API versions required it.
    const withPaging = { ...query, page: query.page ?? 1, per_page: query.per_page ?? MAX_PER_PAGE };
    checkPaging(withPaging.page, withPaging.per_page);
    const url = new URL(this.#commandsUrl);
    for (const [name, value] of Object.entries(withPaging)) {
      if (value === undefined) continue;
      url.searchParams.set(name, value instanceof Date ? value.toISOString() : String(value));
    }
    const body = await this.#call(ListCommandsResponse, url.href, { method: "GET" });
    return withResultInfo({ commands: body.result?.commands ?? [] }, body.result_info);
  }

  /**
   * `GET /accounts/{id}/dex/commands/devices`: devices able to take a command that were
   * connected in the last hour, filtered by a name or email substring. A multi-user device
   * appears once per registration.
   */
  searchDevices(search: string, page = 1, perPage = MAX_PER_PAGE): Promise<DevicesPage> {
    return this.#devices(page, perPage, search);
  }

  /**
   * `GET /accounts/{id}/dex/commands/devices` without `search`: one page of every device
   * able to take a command that was connected in the last hour. `result_info` says how many
   * there are (`total_count`, `total_pages`).
   */
  listDevices(page = 1, perPage = MAX_PER_PAGE): Promise<DevicesPage> {
    return this.#devices(page, perPage);
  }

  async #devices(page: number, perPage: number, search?: string): Promise<DevicesPage> {
    checkPaging(page, perPage);
    const url = new URL(`${this.#commandsUrl}/devices`);
    url.searchParams.set("page", String(page));
    url.searchParams.set("per_page", String(perPage));
    if (search !== undefined) url.searchParams.set("search", search);
    const body = await this.#call(ListDevicesResponse, url.href, { method: "GET" });
    return withResultInfo({ devices: body.result?.devices ?? [] }, body.result_info);
  }

  /**
   * `GET /accounts/{id}/dex/commands/quota`: how many commands the account may create, how
   * many it has, and when that resets. One call, within the same budget as every other.
   */
  async getQuota(): Promise<CommandQuota> {
    const body = await this.#call(CommandQuotaResponse, `${this.#commandsUrl}/quota`, { method: "GET" });
    if (!body.result) throw new DexApiError("ambiguous", "DEX API quota answered without a result");
    return body.result;
  }

  /**
   * `GET /accounts/{id}/dex/commands/{command_id}/downloads/{filename}`: a finished
   * command's file, streamed as it arrives. The timeout covers the wait for the answer, not
   * the transfer of a 50 MB capture.
   */
  async download(commandId: string, filename: string): Promise<Response> {
    const wait = (await this.#gate?.take(1)) ?? 0;
    if (wait > 0) {
      throw new DexApiError("rate-limited", `DEX API calls are held for ${wait} s to stay within the API's rate limit`, { retryAfterSeconds: wait });
    }
    const url = `${this.#commandsUrl}/${encodeURIComponent(commandId)}/downloads/${encodeURIComponent(filename)}`;
    const answered = new AbortController();
    const timer = setTimeout(() => answered.abort(), this.#timeoutMs);
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${this.#token}` }, signal: answered.signal });
      if (!res.ok) {
        const error = await errorFromResponse(res, this.#now());
        if (error.status === 429) await this.#gate?.lockOut(error.retryAfterSeconds ?? RATE_LIMIT_LOCKOUT_SECONDS);
        throw error.withoutSecret(this.#token);
      }
      return res;
    } catch (e) {
      if (isDexApiError(e)) throw e;
      throw new DexApiError(
        "ambiguous",
        answered.signal.aborted ? `DEX API did not answer within ${this.#timeoutMs} ms` : `DEX API unreachable: ${describe(e)}`,
        { cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one request and returns its parsed, successful envelope, or throws a DexApiError. */
  async #call<T extends z.ZodMiniType<Envelope>>(schema: T, url: string, init: RequestInit): Promise<z.infer<T>> {
    // Held back by the relay's own budget: the same answer as the API's 429, minus the lockout.
    const wait = (await this.#gate?.take(1)) ?? 0;
    if (wait > 0) {
      throw new DexApiError("rate-limited", `DEX API calls are held for ${wait} s to stay within the API's rate limit`, {
        retryAfterSeconds: wait,
      });
    }
    try {
      return await this.#send(schema, url, init);
    } catch (e) {
      if (!isDexApiError(e)) throw e;
      if (e.status === 429) await this.#gate?.lockOut(e.retryAfterSeconds ?? RATE_LIMIT_LOCKOUT_SECONDS);
      throw e.withoutSecret(this.#token);
    }
  }

  async #send<T extends z.ZodMiniType<Envelope>>(schema: T, url: string, init: RequestInit): Promise<z.infer<T>> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.#token}`);
    headers.set("accept", "application/json");

    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { ...init, headers, signal });
      if (!res.ok) throw await errorFromResponse(res, this.#now());
      text = await res.text();
    } catch (e) {
      if (isDexApiError(e)) throw e;
      if (signal.aborted) {
        throw new DexApiError("ambiguous", `DEX API did not answer within ${this.#timeoutMs} ms`, { cause: e });
      }
      throw new DexApiError("ambiguous", `DEX API unreachable: ${describe(e)}`, { cause: e });
    }

    const parsed = schema.safeParse(parseJson(text));
    if (!parsed.success) {
      throw new DexApiError("ambiguous", `DEX API ${res.status}: the response is not the expected envelope`, {
        status: res.status,
      });
    }
    const body = parsed.data;
    if (!body.success) throw errorFromUnsuccessfulEnvelope(res.status, body.errors);
    return body;
  }
}

function refusedBeforeSending(error: z.core.$ZodError): DexApiError {
  const errors = error.issues.map((issue) => ({
    code: CLIENT_REFUSAL_CODE,
    message: issue.message,
    source: { pointer: jsonPointer(issue.path) },
  }));
  const first = errors[0];
  return new DexApiError("rejected", `DEX create refused before sending: ${first?.source.pointer} ${first?.message}`, {
    errors,
  });
}

/** RFC 6901 pointer into the request body, the form the API uses in `source.pointer`. */
function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function checkPaging(page: number | undefined, perPage: number | undefined): void {
  const inRange = (n: number | undefined, max: number) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= max);
  const problem = !inRange(page, Number.MAX_SAFE_INTEGER)
    ? "page must be a positive integer"
    : !inRange(perPage, MAX_PER_PAGE)
      ? `per_page must be an integer from 1 to ${MAX_PER_PAGE}`
      : undefined;
  if (problem) {
    throw new DexApiError("rejected", `DEX list refused before sending: ${problem}`, {
      errors: [{ code: CLIENT_REFUSAL_CODE, message: problem }],
    });
  }
}

function withResultInfo<T extends object>(page: T, info: ResultInfo | null | undefined): T & { resultInfo?: ResultInfo } {
  return info ? { ...page, resultInfo: info } : page;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message || e.name : "fetch failed";
}
