import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../config/middleware";
import type { Operator } from "../model/operator";
import { readSecret } from "../config/secrets";
import { bearerRefusal } from "../crypto/bearer";
import { logProblem } from "../record/log";
import { unauthorized } from "../model/http-errors";
import { accessSettings } from "../config/access";
import { relayPublicUrl } from "../config/urls";
import { verifyAccessJwt } from "./access-jwt";

/** How the audit trail names an operator: the Access email, else how they signed in. */
export function operatorName(operator: Operator): string {
  return operator.via === "access" ? (operator.email ?? "Cloudflare Access") : "admin token";
}

/** An operator as an approval names them: the audit trail's name and, behind Access, the email a rule's `approvers` may list. */
export function operatorPerson(operator: Operator): { by: string; identity?: string } {
  return { by: operatorName(operator), ...(operator.via === "access" && operator.email ? { identity: operator.email } : {}) };
}

/** The one answer to every refused operator request: why is logged, not told. */
export const OPERATOR_REFUSAL = "unauthorized";

/**
 * Lets through operators only: `Authorization: Bearer <ADMIN_TOKEN>` (scripts), or a
 * Cloudflare Access token in `Cf-Access-Jwt-Assertion` or the `CF_Authorization` cookie
 * when `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` are set. With neither configured, refuses
 * everything. Sets `c.var.operator`.
 * @see https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/validating-json/
 */
export function operatorAuth() {
  return createMiddleware<AppEnv>(async function operatorAuth(c, next) {
    const refuse = (reason: string) => {
      logProblem("operator-refused", { path: c.req.path, reason });
      return unauthorized(OPERATOR_REFUSAL);
    };
    const adminToken = readSecret(c.env, "ADMIN_TOKEN");
    const access = accessSettings(c.env);
    if (!adminToken && !access) throw refuse("neither ADMIN_TOKEN nor ACCESS_TEAM_DOMAIN and ACCESS_AUD are set");

    const authorization = c.req.header("authorization");
    if (authorization) {
      if (!adminToken) throw refuse("a bearer token was sent but ADMIN_TOKEN is not set");
      const refusal = await bearerRefusal(authorization, adminToken);
      if (refusal) throw refuse(refusal);
      c.set("operator", { via: "token" });
      return next();
    }

    const token = c.req.header("cf-access-jwt-assertion") ?? accessCookie(c.req.header("cookie"));
    if (!token) throw refuse("no bearer token and no Access token");
    if (!access) throw refuse("an Access token was sent but ACCESS_TEAM_DOMAIN or ACCESS_AUD is not set");
    try {
      const identity = await verifyAccessJwt(token, access);
      c.set("operator", { via: "access", ...(identity.email ? { email: identity.email } : {}) });
    } catch (error) {
      throw refuse(`Access token refused: ${error instanceof Error ? error.message : String(error)}`);
    }
    return next();
  });
}

/**
 * Refuses a request that changes something unless it comes from the relay's own pages:
 * the browser's `Origin` (or `Sec-Fetch-Site`) must be this origin. Scripts that send the
 * admin token, which no other site can make a browser send, may omit both.
 */
export function sameOrigin() {
  return createMiddleware<AppEnv>(async function sameOrigin(c, next) {
    const own = new Set([new URL(c.req.url).origin, publicOrigin(c.env)].filter(Boolean));
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    const allowed = origin ? own.has(origin) : site ? site === "same-origin" || site === "none" : c.var.operator?.via === "token";
    if (!allowed) {
      logProblem("operator-refused", { path: c.req.path, reason: `cross-origin request (origin ${origin ?? "absent"}, sec-fetch-site ${site ?? "absent"})` });
      throw unauthorized(OPERATOR_REFUSAL);
    }
    return next();
  });
}

/** The `CF_Authorization` cookie Access sets in the browser. */
function accessCookie(header: string | undefined): string | undefined {
  return header?.match(/(?:^|;\s*)CF_Authorization=([^;]+)/)?.[1];
}

function publicOrigin(env: Env): string | undefined {
  const url = relayPublicUrl(env);
  return url ? new URL(url).origin : undefined;
}
