import { fromBase64, webhookSecretKey } from "../../crypto/webhook-secret";
import { misconfigured, unauthorized } from "../../model/http-errors";

export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

/** How far a signed timestamp may be from the relay's clock, either way, before it is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/**
 * How many `v1,` signatures are checked at most. A sender lists one per active secret (two
 * during a rotation); the cap keeps a padded header from costing unbounded HMACs.
 */
export const MAX_SIGNATURES_EXAMINED = 10;

/** HMAC-SHA256 is 32 bytes, 44 characters of base64. */
const SIGNATURE_BYTES = 32;

const encoder = new TextEncoder();

/**
 * Throws a 401 unless the delivery carries `webhook-id`, a `webhook-timestamp` within
 * {@link TIMESTAMP_TOLERANCE_SECONDS} of `now`, and a `webhook-signature` with one `v1,`
 * entry that is the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under one of the
 * secrets. The body is taken as the bytes received; each comparison is constant-time.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export async function verifyStandardWebhook(body: Uint8Array, headers: Headers, secrets: readonly string[], now: Date): Promise<void> {
  const id = headers.get(WEBHOOK_ID_HEADER);
  const timestamp = headers.get(WEBHOOK_TIMESTAMP_HEADER);
  const header = headers.get(WEBHOOK_SIGNATURE_HEADER);
  if (!id) throw unauthorized(`missing ${WEBHOOK_ID_HEADER} header`);
  if (!timestamp) throw unauthorized(`missing ${WEBHOOK_TIMESTAMP_HEADER} header`);
  if (!header) throw unauthorized(`missing ${WEBHOOK_SIGNATURE_HEADER} header`);
  checkTimestamp(timestamp, now);

  const signatures = v1Signatures(header);
  if (signatures.length === 0) throw unauthorized(`${WEBHOOK_SIGNATURE_HEADER} has no v1 signature`);
  const keys = await Promise.all(secrets.map(hmacKey));
  const signed = concat(encoder.encode(`${id}.${timestamp}.`), body);
  for (const signature of signatures) {
    for (const key of keys) {
      if (await crypto.subtle.verify("HMAC", key, signature, signed)) return;
    }
  }
  throw unauthorized("signature does not match");
}

/**
 * The decoded `v1,` entries of a `webhook-signature` header (space-separated), at most
 * {@link MAX_SIGNATURES_EXAMINED}. Entries of other versions (`v1a,` is asymmetric) are
 * skipped, and so is an entry that is not base64 of 32 bytes: it can match nothing.
 */
export function v1Signatures(header: string): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const entry of header.split(" ")) {
    if (!entry.startsWith("v1,")) continue;
    const bytes = fromBase64(entry.slice(3));
    if (bytes?.length === SIGNATURE_BYTES) found.push(bytes);
    if (found.length === MAX_SIGNATURES_EXAMINED) break;
  }
  return found;
}

/** The HMAC key of a `whsec_<base64>` secret; a secret that holds none is the operator's to fix (500). */
async function hmacKey(secret: string): Promise<CryptoKey> {
  const key = webhookSecretKey(secret);
  if (!key) throw misconfigured("WEBHOOK_SECRET must be whsec_ followed by base64");
  return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

function checkTimestamp(timestamp: string, now: Date): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw unauthorized(`${WEBHOOK_TIMESTAMP_HEADER} must be a Unix time in seconds`);
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > TIMESTAMP_TOLERANCE_SECONDS) throw unauthorized("timestamp is too old");
  if (age < -TIMESTAMP_TOLERANCE_SECONDS) throw unauthorized("timestamp is too new");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
