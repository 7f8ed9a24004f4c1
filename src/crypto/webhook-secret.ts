/** What Standard Webhooks secrets start with; the rest is the key, in base64. */
const SECRET_PREFIX = "whsec_";

/**
 * The HMAC key a Standard Webhooks secret holds: `whsec_`, then the key in base64 (the
 * prefix is optional, as the spec's libraries allow). Undefined unless the rest is padded
 * base64 of at least one byte. The webhook source and the result webhook both read their
 * secrets here, so a secret means the same key whichever way it signs.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
 */
export function webhookSecretKey(secret: string): Uint8Array<ArrayBuffer> | undefined {
  const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  return key && key.length > 0 ? key : undefined;
}

/** Standard base64 with its padding, as senders emit it; undefined for anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
