import { secretsEqual } from "../../crypto/compare";
import { unauthorized } from "../../model/http-errors";

/** Where Cloudflare Notifications puts a webhook destination's secret, verbatim. */
export const CLOUDFLARE_AUTH_HEADER = "cf-webhook-auth";

/**
 * Throws a 401 unless `cf-webhook-auth` equals one of the secrets. Cloudflare sends the
 * destination's secret as it is (no HMAC, no timestamp), so this is a constant-time
 * comparison of shared secrets; several are accepted while a destination is replaced by
 * one with a new secret.
 * @see https://developers.cloudflare.com/notifications/get-started/configure-webhooks/#generic-webhooks
 */
export async function verifyCloudflareSecret(headers: Headers, secrets: readonly string[]): Promise<void> {
  const given = headers.get(CLOUDFLARE_AUTH_HEADER);
  if (!given) throw unauthorized(`missing ${CLOUDFLARE_AUTH_HEADER} header`);
  // Every secret is compared, so the time taken does not say which one matched.
  const matches = await Promise.all(secrets.map((secret) => secretsEqual(given, secret)));
  if (!matches.includes(true)) throw unauthorized(`invalid ${CLOUDFLARE_AUTH_HEADER} secret`);
}
