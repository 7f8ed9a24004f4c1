import type { MiddlewareHandler } from "hono";
import { ERROR_CODES, refuse } from "./envelope";

/**
 * Any non-empty bearer token is accepted: the stand-in checks that the relay sends one,
 * not which one.
 */
export function requireBearer(): MiddlewareHandler {
  return async function requireBearer(c, next) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw refuse(401, ERROR_CODES.authentication, "Authentication error");
    await next();
  };
}
