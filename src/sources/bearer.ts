import { secretsEqual } from "../crypto/compare";
import { readSecret } from "../config/secrets";
import { unauthorized } from "../model/http-errors";

/**
 * Verifies `Authorization: Bearer <token>` against the named secret. Refuses everything
 * while the secret is unset.
 */
export async function verifyBearer(
  headers: Headers,
  env: Env,
  secretName: string,
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
