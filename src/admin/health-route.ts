import { Hono } from "hono";
import { checkHealth } from "./health";

/**
 * `GET /healthz`: 200 with what is on (rules, sources, operator access) when the
 * configuration can work, 503 with each problem otherwise. Names settings, never values.
 */
export const healthRoute = new Hono<{ Bindings: Env }>().get("/healthz", (c) => {
  const { ok, problems, ...summary } = checkHealth(c.env);
  return c.json({ status: ok ? "ok" : "misconfigured", ...(ok ? {} : { problems }), ...summary }, ok ? 200 : 503);
});
