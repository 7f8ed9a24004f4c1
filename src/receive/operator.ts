import { readSecret } from "../config/secrets";
import { secretsEqual } from "../crypto/compare";
import { unauthorized } from "../model/http-errors";

/**
 * The header an operator presents `ADMIN_TOKEN` in where `Authorization` already carries a
 * sender's credentials: on a dry run, which shows devices, emails and earlier commands.
 */
export const OPERATOR_HEADER = "X-Relay-Admin-Token";

/**
 * Throws a 401 unless the request carries `ADMIN_TOKEN` in {@link OPERATOR_HEADER}, compared
 * in constant time. A sender's token alone never reads the device directory.
 */
export async function verifyOperator(headers: Headers, env: Env): Promise<void> {
  const expected = readSecret(env, "ADMIN_TOKEN");
  if (!expected) throw unauthorized("dry runs are disabled: ADMIN_TOKEN is not set");
  const given = headers.get(OPERATOR_HEADER)?.trim();
  if (!given) throw unauthorized(`a dry run needs ${OPERATOR_HEADER}`);
  if (!(await secretsEqual(given, expected))) throw unauthorized(`invalid ${OPERATOR_HEADER}`);
}
