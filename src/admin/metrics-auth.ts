import { createMiddleware } from "hono/factory";
import { readSecret } from "../config/secrets";
import { bearerToken } from "../crypto/bearer";
import { secretsEqual } from "../crypto/compare";
import { operatorAuth } from "./operator-auth";
import type { AppEnv } from "../config/middleware";

/**
 * Lets through Prometheus with `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
 * time), and otherwise whoever passes {@link operatorAuth}. The scrape token reads the
 * numbers and nothing else, so a Prometheus server never holds the admin token. With
 * `METRICS_TOKEN` unset, only operators may read them.
 */
export function metricsAuth() {
  const operator = operatorAuth();
  return createMiddleware<AppEnv>(async function metricsAuth(c, next) {
    const scrapeToken = readSecret(c.env, "METRICS_TOKEN");
    const bearer = bearerToken(c.req.header("authorization"));
    if (scrapeToken && bearer && (await secretsEqual(bearer, scrapeToken))) return next();
    return operator(c, next);
  });
}
