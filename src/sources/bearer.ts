import { readSecret, readSecretList, type TextBinding } from "../config/secrets";
import { bearerRefusal } from "../crypto/bearer";
import { unauthorized } from "../model/http-errors";
import type { RawDelivery, SourceAdapter } from "./adapter";

/**
 * Verifies `Authorization: Bearer <token>` against the named secret. Refuses everything
 * while the secret is unset.
 */
export async function verifyBearer(headers: Headers, env: Env, secretName: TextBinding, disabled = "this source is disabled"): Promise<void> {
  const expected = readSecret(env, secretName);
  if (!expected) throw unauthorized(`${disabled}: ${secretName} is not set`);
  const refusal = await bearerRefusal(headers.get("authorization"), expected);
  if (refusal) throw unauthorized(refusal);
}

/** The values of a secret that may hold several during a rotation; refuses everything while it is unset. */
export function requiredSecrets(env: Env, secretName: TextBinding): string[] {
  const secrets = readSecretList(env, secretName);
  if (secrets.length === 0) throw unauthorized(`this source is disabled: ${secretName} is not set`);
  return secrets;
}

/** `verify` for a source whose senders authenticate with `Authorization: Bearer` alone. */
export function bearerAuth(secretName: TextBinding): SourceAdapter["verify"] {
  return (delivery, env) => verifyBearer(delivery.headers, env, secretName);
}

/** How a source that takes a signature, or a bearer token from senders that cannot sign, is set up. */
export interface SignedOrBearer<Secret> {
  /** The header a signed delivery carries its signature in. */
  signatureHeader: string;
  /** The binding holding the signing secret. */
  secretName: TextBinding;
  /** The signing secret as this source reads it (one value, or several during a rotation); undefined while unset. */
  readSecret(env: Env): Secret | undefined;
  /** The binding holding the bearer token. */
  tokenName: TextBinding;
  /** Throws a 401 unless the signature is right; only called when the secret is set. */
  verifySignature(delivery: RawDelivery, secret: Secret, env: Env, now: Date): Promise<void>;
}

/**
 * `verify` for a source with two ways to authenticate, each enabled by its own binding. A
 * request that carries a signature is judged by it alone: a wrong signature means a changed
 * body or a wrong secret, and no bearer token makes that right.
 */
export function signedOrBearerAuth<Secret>(options: SignedOrBearer<Secret>): SourceAdapter["verify"] {
  const { signatureHeader, secretName, tokenName } = options;
  return async (delivery, env, now) => {
    const secret = options.readSecret(env);
    const hasToken = readSecret(env, tokenName) !== undefined;
    if (secret === undefined && !hasToken) throw unauthorized(`this source is disabled: neither ${secretName} nor ${tokenName} is set`);
    const { headers } = delivery;
    if (headers.has(signatureHeader)) {
      if (secret === undefined) throw unauthorized(`signed deliveries are disabled: ${secretName} is not set`);
      return options.verifySignature(delivery, secret, env, now);
    }
    if (!hasToken) throw unauthorized(`missing ${signatureHeader} header; bearer tokens are disabled: ${tokenName} is not set`);
    if (secret !== undefined && !headers.has("authorization")) throw unauthorized(`missing ${signatureHeader} or Authorization header`);
    await verifyBearer(headers, env, tokenName);
  };
}
