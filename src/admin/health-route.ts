import { Hono } from "hono";
import { checkHealth } from "./health";
import { readQuotaStatus } from "./quota-status";

/**
 * `GET /healthz`: 200 with what is on (rules, sources, operator access) when the
 * configuration can work, 503 with each problem otherwise. Names settings, never values.
 * `dex_command_quota` is the account's DEX command quota as the ledger last read it: a
 * spent quota is not a configuration problem, and does not make this a 503.
 */
export const healthRoute = new Hono<{ Bindings: Env }>().get("/healthz", async (c) => {
  const { ok, problems, ...summary } = checkHealth(c.env);
  const quota = await readQuotaStatus(c.env);
  return c.json({ status: ok ? "ok" : "misconfigured", ...(ok ? {} : { problems }), ...summary, dex_command_quota: quota }, ok ? 200 : 503);
});
