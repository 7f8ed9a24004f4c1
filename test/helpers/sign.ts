import { hmacSha256Hex } from "../../src/crypto/hmac";

/**
 * The `X-PagerDuty-Signature` value PagerDuty sends for `body`: one `v1=<hex>` per secret,
 * comma-separated, as during a secret rotation.
 */
export async function signPagerDuty(body: string, ...secrets: string[]): Promise<string> {
  const signatures = await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, body)));
  return signatures.map((hex) => `v1=${hex}`).join(",");
}

/**
 * The `X-Grafana-Alerting-Signature` value Grafana sends for `body`: lower-case hex, no
 * prefix. With a timestamp (the contact point's timestamp header), Grafana signs
 * `timestamp:body`.
 */
export async function signGrafana(body: string, secret: string, timestamp?: number | string): Promise<string> {
  return hmacSha256Hex(secret, timestamp === undefined ? body : `${timestamp}:${body}`);
}
