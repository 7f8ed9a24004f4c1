import type { AccessSettings } from "../config/access";
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from "jose";

/** Clock skew tolerated on `exp` and `nbf`, between Access and the Worker. */
export const ACCESS_CLOCK_LEEWAY_SECONDS = 60;
/** How long the team's signing keys are trusted before they are read again. */
export const ACCESS_KEYS_TTL_MS = 10 * 60_000;
/** A token naming a key the cache lacks reloads the keys (a rotation), at most this often. */
const KEY_MISS_RELOAD_MS = 30_000;
const CERTS_TIMEOUT_MS = 5_000;
/** Access signs with RS256 and nothing else: any other `alg` (`none`, HS256 with the public key) is refused. */
const ACCESS_ALGORITHMS = ["RS256"];

/** Who Access says the request comes from. */
export interface AccessIdentity {
  email?: string;
  sub: string;
}

/** Why a token was refused: logged, never shown to the caller. */
export class AccessTokenError extends Error {}

/** One key set per team domain, kept for the isolate's life: jose caches the keys and reloads them on a rotation. */
const keySets = new Map<string, JWTVerifyGetKey>();

/**
 * Verifies a Cloudflare Access token (`Cf-Access-Jwt-Assertion`, or the `CF_Authorization`
 * cookie): an RS256 signature by one of the team's keys, the application's audience, the
 * team as issuer, and the validity period. Throws an AccessTokenError saying why not.
 * @see https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/validating-json/
 */
export async function verifyAccessJwt(token: string, settings: AccessSettings, now = Date.now()): Promise<AccessIdentity> {
  const teamDomain = trimSlash(settings.teamDomain);
  try {
    const { payload } = await jwtVerify(token, teamKeys(teamDomain), {
      algorithms: ACCESS_ALGORITHMS,
      audience: settings.audience,
      issuer: teamDomain,
      requiredClaims: ["exp"],
      clockTolerance: ACCESS_CLOCK_LEEWAY_SECONDS,
      currentDate: new Date(now),
    });
    const email = typeof payload.email === "string" && payload.email ? payload.email : undefined;
    return { sub: payload.sub ?? "", ...(email ? { email } : {}) };
  } catch (error) {
    if (error instanceof AccessTokenError) throw error;
    // jose's messages name the check that failed ("exp" claim timestamp check failed), never a value.
    if (error instanceof errors.JOSEError) throw new AccessTokenError(`${error.code}: ${error.message}`);
    throw error;
  }
}

/** Forgets every cached key set (tests; a team that changed domain). */
export function forgetAccessKeys(): void {
  keySets.clear();
}

function teamKeys(teamDomain: string): JWTVerifyGetKey {
  let keys = keySets.get(teamDomain);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(`${teamDomain}/cdn-cgi/access/certs`), {
      cacheMaxAge: ACCESS_KEYS_TTL_MS,
      cooldownDuration: KEY_MISS_RELOAD_MS,
      timeoutDuration: CERTS_TIMEOUT_MS,
      [customFetch]: fetchCerts,
    });
    keySets.set(teamDomain, keys);
  }
  return keys;
}

/** Reads the certs through the global `fetch` (read at call time, so tests see it) and says which status refused them. */
async function fetchCerts(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new AccessTokenError(`could not read the team's keys: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw new AccessTokenError(`the team's keys answered ${response.status}`);
  return response;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
