import { relayPublicUrl } from "../config/urls";
import { sValidator } from "@hono/standard-validator";
import * as z from "../model/zod";
import type { RequestConfig } from "../config/middleware";
import { commandLedger, type LedgerStub } from "../ledger/ledger-stub";
import { badRequest } from "../model/http-errors";
import { formatIssues } from "../model/schema-issues";

/** A page holds this many items unless `limit` says otherwise. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 50;

const RELATIVE = /^(\d{1,5})([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3600_000, d: 86_400_000 } as const;

/** `since` is an ISO time, or a duration back from now: `30s`, `15m`, `6h`, `7d`. */
export const Since = z.pipe(
  z.string().check(z.trim()),
  z.transform((value: string, ctx) => {
    const relative = RELATIVE.exec(value);
    const at = relative ? Date.now() - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS] : Date.parse(value);
    if (Number.isNaN(at)) {
      ctx.issues.push({ code: "custom", message: "an ISO time (2026-11-25T09:00:00Z) or a duration such as 15m, 6h, 7d", input: value });
      return z.NEVER;
    }
    return at;
  }),
);

const blankIsAbsent = (v: unknown) => (v === "" ? undefined : v);
/** A query parameter where an empty value means "not given" (what an empty form field sends). */
export function optionalParam<T extends z.ZodMiniType>(schema: T) {
  return z.pipe(z.transform(blankIsAbsent), z.optional(schema));
}
export const optionalText = optionalParam(z.string().check(z.trim(), z.maxLength(200)));
export const PageQuery = z.object({
  since: optionalParam(Since),
  cursor: optionalParam(z.string().check(z.maxLength(1024))),
  limit: z.pipe(z.transform(blankIsAbsent), z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_PAGE_SIZE)), DEFAULT_PAGE_SIZE)),
});

/**
 * Validates a route's query parameters with `schema` (read them with `c.req.valid("query")`),
 * answering 400 with the name of the one that is wrong, never its value. A parameter given
 * twice is refused rather than one of its values picked.
 */
export function validQuery<T extends z.ZodMiniType>(schema: T) {
  return sValidator("query", schema, (result) => {
    if (!result.success) throw badRequest(formatIssues({ issues: result.error }, "query"));
  });
}

/** Parses query parameters gathered by hand (the console's filters), answering 400 as {@link validQuery} does. */
export function parseQuery<T extends z.ZodMiniType>(schema: T, query: Record<string, string>): z.infer<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw badRequest(formatIssues(parsed.error, "query"));
  return parsed.data;
}

/** The account's command ledger, or a 500 naming what is misconfigured (from `c.var.config`). */
export function operatorLedger(env: Env, config: RequestConfig): LedgerStub {
  return commandLedger(env, config.dex().accountId);
}

/** A command's key in the ledger (SHA-256 hex): what the approval forms and API name. */
export const COMMAND_KEY = /^[0-9a-f]{64}$/;

/** Where links to the relay point: `RELAY_PUBLIC_URL`, else the origin the request came to. */
export function publicBase(env: Env, requestUrl: string): string {
  return relayPublicUrl(env) ?? new URL(requestUrl).origin;
}

/** `{base}/v1/commands/{id}/download` once a command has an artifact to download. */
export function downloadUrl(base: string, command: { command_id: string | null; filename: string | null }): string | null {
  return command.command_id && command.filename ? `${base}/v1/commands/${encodeURIComponent(command.command_id)}/download` : null;
}
