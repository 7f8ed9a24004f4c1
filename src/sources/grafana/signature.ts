import { verifyHmacSha256Hex } from "../../crypto/hmac";
import { misconfigured, unauthorized } from "../../model/http-errors";

/** Grafana's default name for the header; the relay expects the default. */
export const GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature";

/** How far a signed timestamp may be from the relay's clock, either way, before it is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/** What an HTTP header name may contain (RFC 9110 `token`). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Throws a 401 unless `X-Grafana-Alerting-Signature` is the lower-case hex HMAC-SHA256 of
 * the raw body under `secret`. With `timestampHeader` set (the contact point's "Timestamp
 * header"), Grafana signs `timestamp + ":" + body`; the timestamp must then be present and
 * within {@link TIMESTAMP_TOLERANCE_SECONDS} of `now`, so a captured request cannot be
 * replayed later.
 * @see https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export async function verifyGrafanaSignature(
  body: string | Uint8Array,
  headers: Headers,
  secret: string,
  timestampHeader: string | undefined,
  now: Date,
): Promise<void> {
  const signature = headers.get(GRAFANA_SIGNATURE_HEADER);
  if (signature === null) throw unauthorized(`missing ${GRAFANA_SIGNATURE_HEADER} header`);
  let signed = typeof body === "string" ? new TextEncoder().encode(body) : body;
  if (timestampHeader) {
    if (!HEADER_NAME.test(timestampHeader)) throw misconfigured("GRAFANA_TIMESTAMP_HEADER is not a valid header name");
    const timestamp = headers.get(timestampHeader);
    if (timestamp === null) throw unauthorized(`missing ${timestampHeader} header`);
    checkTimestamp(timestamp, timestampHeader, now);
    signed = concat(new TextEncoder().encode(`${timestamp}:`), signed);
  }
  if (!(await verifyHmacSha256Hex(secret, signed, signature.trim()))) throw unauthorized("signature does not match");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function checkTimestamp(timestamp: string, header: string, now: Date): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw unauthorized(`${header} must be a Unix time in seconds`);
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > TIMESTAMP_TOLERANCE_SECONDS) throw unauthorized("timestamp is too old");
  if (age < -TIMESTAMP_TOLERANCE_SECONDS) throw unauthorized("timestamp is too new");
}
