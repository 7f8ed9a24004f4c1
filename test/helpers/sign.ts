import { hmacSha256Hex } from "../../src/crypto/hmac";

/**
 * The `X-PagerDuty-Signature` value PagerDuty sends for `body`: one `v1=<hex>` per secret,
 * comma-separated, as during a secret rotation.
 */
export async function signPagerDuty(body: string, ...secrets: string[]): Promise<string> {
  const signatures = await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, body)));
  return signatures.map((hex) => `v1=${hex}`).join(",");
}
