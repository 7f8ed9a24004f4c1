import { verifyHmacSha256Hex } from "../../crypto/hmac";
import { unauthorized } from "../../model/http-errors";

export const PAGERDUTY_SIGNATURE_HEADER = "X-PagerDuty-Signature";

/**
 * How many `v1=` signatures are checked at most. PagerDuty sends one per active secret
 * (two during a rotation); the cap keeps a padded header from costing unbounded HMACs.
 */
export const MAX_SIGNATURES_EXAMINED = 10;

/**
 * The hex values of the `v1=` entries of an `X-PagerDuty-Signature` header, at most
 * {@link MAX_SIGNATURES_EXAMINED}. Entries of other versions are skipped: a future
 * scheme must not be mistaken for this one.
 */
export function v1Signatures(header: string): string[] {
  const found: string[] = [];
  for (const entry of header.split(",")) {
    const trimmed = entry.trim();
    if (trimmed.startsWith("v1=") && trimmed.length > 3) found.push(trimmed.slice(3));
    if (found.length === MAX_SIGNATURES_EXAMINED) break;
  }
  return found;
}

/**
 * Throws a 401 unless one `v1` signature of the header is HMAC-SHA256 of the raw body
 * under one of the secrets. Several secrets are accepted so a rotation never drops alerts.
 * @see https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md
 */
export async function verifyPagerDutySignature(body: string | Uint8Array, header: string | null, secrets: string[]): Promise<void> {
  if (!header) throw unauthorized(`missing ${PAGERDUTY_SIGNATURE_HEADER} header`);
  const signatures = v1Signatures(header);
  if (signatures.length === 0) throw unauthorized(`${PAGERDUTY_SIGNATURE_HEADER} has no v1 signature`);
  for (const signature of signatures) {
    for (const secret of secrets) {
      if (await verifyHmacSha256Hex(secret, body, signature)) return;
    }
  }
  throw unauthorized("signature does not match");
}
