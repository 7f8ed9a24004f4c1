import * as z from "../model/zod";

/** Clock skew tolerated on `exp` and `nbf`, between Access and the Worker. */
export const ACCESS_CLOCK_LEEWAY_SECONDS = 60;
/** How long the team's signing keys are trusted before they are read again. */
export const ACCESS_KEYS_TTL_MS = 10 * 60_000;
/** A token naming a key the cache lacks reloads the keys (a rotation), at most this often. */
const KEY_MISS_RELOAD_MS = 30_000;
const CERTS_TIMEOUT_MS = 5_000;

export interface AccessSettings {
  /** `https://<team>.cloudflareaccess.com`: the issuer, and where its keys are published. */
  teamDomain: string;
  /** The Access application's audience tag. */
  audience: string;
}

/** Who Access says the request comes from. */
export interface AccessIdentity {
  email?: string;
  sub: string;
}

/** Why a token was refused: logged, never shown to the caller. */
export class AccessTokenError extends Error {}

const JwtHeader = z.object({ alg: z.literal("RS256"), kid: z.string().check(z.minLength(1)) });
const JwtClaims = z.object({
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.string(),
  exp: z.number(),
  nbf: z.optional(z.number()),
  sub: z._default(z.string(), ""),
  email: z.optional(z.string()),
});
const Jwks = z.object({
  keys: z.array(z.looseObject({ kid: z.string(), kty: z.literal("RSA"), n: z.string(), e: z.string() })),
});

interface CachedKeys {
  keys: Map<string, CryptoKey>;
  loadedAt: number;
}
const cache = new Map<string, Promise<CachedKeys>>();

/**
 * Verifies a Cloudflare Access token (`Cf-Access-Jwt-Assertion`, or the `CF_Authorization`
 * cookie): an RS256 signature by one of the team's keys, the application's audience, the
 * team as issuer, and the validity period. Throws an AccessTokenError saying why not.
 * @see https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/validating-json/
 */
export async function verifyAccessJwt(token: string, settings: AccessSettings, now = Date.now()): Promise<AccessIdentity> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new AccessTokenError("not a JWT");
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = JwtHeader.safeParse(decodeJson(headerPart));
  if (!header.success) throw new AccessTokenError("header is not RS256 with a kid");
  const key = await signingKey(settings.teamDomain, header.data.kid, now);
  const signed = new TextEncoder().encode(`${headerPart}.${claimsPart}`);
  const valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, base64UrlBytes(signaturePart), signed);
  if (!valid) throw new AccessTokenError("bad signature");

  const claims = JwtClaims.safeParse(decodeJson(claimsPart));
  if (!claims.success) throw new AccessTokenError("claims are missing aud, iss or exp");
  const { aud, iss, exp, nbf, sub, email } = claims.data;
  if (![aud].flat().includes(settings.audience)) throw new AccessTokenError("wrong audience");
  if (trimSlash(iss) !== trimSlash(settings.teamDomain)) throw new AccessTokenError("wrong issuer");
  const seconds = now / 1000;
  if (exp + ACCESS_CLOCK_LEEWAY_SECONDS < seconds) throw new AccessTokenError("expired");
  if (nbf !== undefined && nbf - ACCESS_CLOCK_LEEWAY_SECONDS > seconds) throw new AccessTokenError("not valid yet");
  return { sub, ...(email ? { email } : {}) };
}

/** Forgets every cached key set (tests; a team that changed domain). */
export function forgetAccessKeys(): void {
  cache.clear();
}

async function signingKey(teamDomain: string, kid: string, now: number): Promise<CryptoKey> {
  const domain = trimSlash(teamDomain);
  let cached = cache.get(domain);
  let keys = cached ? await cached.catch(() => undefined) : undefined;
  const stale = !keys || now - keys.loadedAt > ACCESS_KEYS_TTL_MS || (!keys.keys.has(kid) && now - keys.loadedAt > KEY_MISS_RELOAD_MS);
  if (stale) {
    cached = loadKeys(domain, now);
    cache.set(domain, cached);
    // A failed load is not cached: the next request tries again.
    cached.catch(() => cache.delete(domain));
    keys = await cached;
  }
  const key = keys!.keys.get(kid);
  if (!key) throw new AccessTokenError("signed by a key the team does not publish");
  return key;
}

async function loadKeys(domain: string, now: number): Promise<CachedKeys> {
  let response: Response;
  try {
    response = await fetch(`${domain}/cdn-cgi/access/certs`, { signal: AbortSignal.timeout(CERTS_TIMEOUT_MS) });
  } catch (error) {
    throw new AccessTokenError(`could not read the team's keys: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw new AccessTokenError(`the team's keys answered ${response.status}`);
  const jwks = Jwks.safeParse(await response.json().catch(() => null));
  if (!jwks.success) throw new AccessTokenError("the team's keys are not a JWKS");
  const keys = new Map<string, CryptoKey>();
  for (const jwk of jwks.data.keys) {
    const imported = await crypto.subtle.importKey(
      "jwk",
      { kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256", ext: true },
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    keys.set(jwk.kid, imported);
  }
  return { keys, loadedAt: now };
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(base64UrlBytes(part)));
  } catch {
    return null;
  }
}

function base64UrlBytes(part: string): Uint8Array<ArrayBuffer> {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
