import { readSecret, readSecretList, type TextBinding } from "../config/secrets";
import { secretsEqual } from "../crypto/compare";
import { unauthorized } from "../model/http-errors";

/**
 * Verifies `Authorization: Bearer <token>` against the named secret. Refuses everything
 * while the secret is unset.
 */
export async function verifyBearer(
  headers: Headers,
  env: Env,
  secretName: TextBinding,
  disabled = "this source is disabled",
): Promise<void> {
  const expected = readSecret(env, secretName);
  if (!expected) throw unauthorized(`${disabled}: ${secretName} is not set`);
  const header = headers.get("authorization");
  if (!header) throw unauthorized("missing Authorization header");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized("Authorization must be 'Bearer <token>'");
  if (!(await secretsEqual(match[1], expected))) throw unauthorized("invalid bearer token");
}

/** The values of a secret that may hold several during a rotation; refuses everything while it is unset. */
export function requiredSecrets(env: Env, secretName: TextBinding): string[] {
  const secrets = readSecretList(env, secretName);
  if (secrets.length === 0) throw unauthorized(`this source is disabled: ${secretName} is not set`);
  return secrets;
}

/** How a source that takes a signature, or a bearer token from senders that cannot sign, is set up. */
export interface SignedOrBearer {
  /** The header a signed delivery carries its signature in. */
  signatureHeader: string;
  /** The binding holding the signing secret, and whether it is set. */
  secretName: TextBinding;
  hasSecret: boolean;
  /** The binding holding the bearer token. */
  tokenName: TextBinding;
  /** Throws a 401 unless the signature is right; only called when the secret is set. */
  verifySignature(): Promise<void>;
}

/**
 * Two ways to authenticate, each enabled by its own binding. A request that carries a
 * signature is judged by it alone: a wrong signature means a changed body or a wrong
 * secret, and no bearer token makes that right.
 */
export async function verifySignedOrBearer(headers: Headers, env: Env, options: SignedOrBearer): Promise<void> {
  const { signatureHeader, secretName, hasSecret, tokenName } = options;
  const hasToken = readSecret(env, tokenName) !== undefined;
  if (!hasSecret && !hasToken) throw unauthorized(`this source is disabled: neither ${secretName} nor ${tokenName} is set`);
  if (headers.has(signatureHeader)) {
    if (!hasSecret) throw unauthorized(`signed deliveries are disabled: ${secretName} is not set`);
    return options.verifySignature();
  }
  if (!hasToken) throw unauthorized(`missing ${signatureHeader} header; bearer tokens are disabled: ${tokenName} is not set`);
  if (hasSecret && !headers.has("authorization")) throw unauthorized(`missing ${signatureHeader} or Authorization header`);
  await verifyBearer(headers, env, tokenName);
}
