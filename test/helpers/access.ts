/** A stand-in Cloudflare Access team: its signing keys, and tokens signed as Access signs them. */
export const TEAM_DOMAIN = "https://acme.access.test";
export const AUDIENCE = "aud-4a1b2c3d";
export const CERTS_URL = `${TEAM_DOMAIN}/cdn-cgi/access/certs`;

const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

export interface SigningKey {
  kid: string;
  pair: CryptoKeyPair;
}

export async function signingKey(kid = "key-1"): Promise<SigningKey> {
  return { kid, pair: (await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair };
}

/** The team's certs document, as `/cdn-cgi/access/certs` answers it. */
export async function certsOf(...keys: SigningKey[]): Promise<Record<string, unknown>> {
  const jwks = await Promise.all(
    keys.map(async ({ kid, pair }) => ({ ...((await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey), kid, alg: "RS256", use: "sig" })),
  );
  return { keys: jwks, public_cert: { kid: keys[0]?.kid, cert: "-----BEGIN CERTIFICATE-----" } };
}

/** An Access token with sensible claims, any of which a test may change. */
export async function accessToken(key: SigningKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const body = { aud: [AUDIENCE], email: "oncall@example.com", sub: "user-1", iss: TEAM_DOMAIN, iat: now, nbf: now, exp: now + 3600, type: "app", ...claims };
  const encode = (value: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(value)));
  const signed = `${encode({ alg: "RS256", kid: key.kid, typ: "JWT", ...header })}.${encode(body)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key.pair.privateKey, new TextEncoder().encode(signed));
  return `${signed}.${base64Url(new Uint8Array(signature))}`;
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
