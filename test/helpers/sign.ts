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

/**
 * The `webhook-signature` value a Standard Webhooks sender sends: `v1,<base64 HMAC-SHA256>`
 * over `{id}.{timestamp}.{body}`, keyed with the base64 part of the `whsec_` secret; one
 * entry per secret, space-separated, as during a rotation.
 */
export async function signStandardWebhook(body: string | Uint8Array, id: string, timestamp: number | string, ...secrets: string[]): Promise<string> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
      const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
      return `v1,${btoa(String.fromCharCode(...mac))}`;
    }),
  );
  return signatures.join(" ");
}

/** The three Standard Webhooks headers for `body`, signed now (or at `timestamp`) under `secrets`. */
export async function standardWebhookHeaders(
  body: string | Uint8Array,
  secrets: string[],
  options: { id?: string; timestamp?: number | string } = {},
): Promise<Record<string, string>> {
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signStandardWebhook(body, id, timestamp, ...secrets),
  };
}
