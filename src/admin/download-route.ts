import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { DexClient } from "../dispatch/dex-client";
import { isDexApiError } from "../model/dex-api-error";
import { commandLedger, ledgerGate } from "../ledger/ledger-stub";
import { logProblem } from "../record/log";
import { notFound } from "../model/http-errors";
import { operatorAuth } from "./operator-auth";
import type { AppEnv } from "../config/middleware";

/**
 * The API types a command id as a plain string, so the ledger, not a pattern, says which ids
 * exist: any id it holds is served. This bound only keeps an absurd path from reaching it.
 */
const MAX_COMMAND_ID_LENGTH = 256;

/**
 * `GET /v1/commands/{command_id}/download`: the file a finished command left (a pcap, a
 * warp-diag), streamed from the DEX downloads endpoint with the relay's token. Operators
 * only (./operator-auth.ts: the admin token, or Cloudflare Access): packet captures hold
 * private traffic, so nothing here is cached, logged or public.
 */
export const downloadRoute = new Hono<AppEnv>().get("/v1/commands/:id/download", operatorAuth(), async (c) => {
  const commandId = c.req.param("id");
  const { dexApiBase, accountId, dexApiToken } = c.var.config.dex();
  const ledger = commandLedger(c.env, accountId);
  const file = commandId.length > 0 && commandId.length <= MAX_COMMAND_ID_LENGTH ? await ledger.fileOf(commandId) : undefined;
  if (!file) throw notFound("no file for this command: it is not one the relay created, or it has not finished");

  const api = new DexClient({ baseUrl: dexApiBase, accountId, token: dexApiToken, gate: ledgerGate(ledger) });
  let upstream: Response;
  try {
    upstream = await api.download(commandId, file.filename);
  } catch (error) {
    if (!isDexApiError(error)) throw error;
    logProblem("download-failed", { command_id: commandId, status: error.status, error: error.message });
    if (error.kind === "rate-limited") {
      throw new HTTPException(503, { message: "the DEX API is rate limiting the relay; retry later", res: retryAfter(error.retryAfterSeconds) });
    }
    throw new HTTPException(502, { message: "the DEX API did not give the file; retry later" });
  }
  return new Response(upstream.body, {
    headers: {
      "content-type": upstream.headers.get("content-type") ?? "application/zip",
      "content-disposition": upstream.headers.get("content-disposition") ?? `attachment; filename="${safeName(file.filename)}"`,
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
      ...(upstream.headers.get("content-length") ? { "content-length": upstream.headers.get("content-length")! } : {}),
    },
  });
});

/** A file name safe inside a quoted header value. */
function safeName(name: string): string {
  return name.replace(/[^\w.-]/g, "_").slice(0, 200) || "artifact.zip";
}

function retryAfter(seconds: number | undefined): Response {
  return Response.json(
    { error: "the DEX API is rate limiting the relay; retry later" },
    { status: 503, headers: seconds ? { "retry-after": String(seconds) } : {} },
  );
}
