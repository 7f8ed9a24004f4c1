import { readSecretList } from "../../config/secrets";
import { sha256Hex } from "../../crypto/hmac";
import type { NormalizedAlert } from "../../model/alert";
import type { RawDelivery, SourceAdapter } from "../adapter";
import { signedOrBearerAuth } from "../bearer";
import { MAX_REDELIVERY_KEY_LENGTH } from "../limits";
import { normalizeSeverity } from "../severity";
import { alertTarget, parseJsonObject, parseOrRefuse } from "../toolkit";
import { RelayAlert } from "./schema";
import { verifyStandardWebhook, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from "./signature";

const SECRET_NAME = "WEBHOOK_SECRET";
const TOKEN_NAME = "WEBHOOK_TOKEN";

const UNTITLED = "(untitled alert)";

/**
 * Any tool that signs webhooks the Standard Webhooks way (in-house tools, SaaS, hand-made
 * Jira Service Management, ServiceNow or Opsgenie automations), sending the relay's own
 * alert shape ({@link RelayAlert}).
 *
 * Two ways to authenticate, each enabled by its own binding: a Standard Webhooks signature
 * (`WEBHOOK_SECRET`, `whsec_…`, comma-separated during a rotation) or, for tools that cannot
 * sign, `Authorization: Bearer` (`WEBHOOK_TOKEN`). A request that carries a signature is
 * judged by it alone (see signedOrBearerAuth). `webhook-id` is the same on every retry,
 * so it drops redeliveries.
 * @see https://www.standardwebhooks.com/
 */
export const webhook: SourceAdapter = {
  name: "webhook",
  contentTypes: ["application/json"],

  verify: signedOrBearerAuth({
    signatureHeader: WEBHOOK_SIGNATURE_HEADER,
    secretName: SECRET_NAME,
    readSecret: (env) => {
      const secrets = readSecretList(env, SECRET_NAME);
      return secrets.length > 0 ? secrets : undefined;
    },
    tokenName: TOKEN_NAME,
    verifySignature: (delivery, secrets, _env, now) => verifyStandardWebhook(delivery.bytes, delivery.headers, secrets, now),
  }),

  async receive(delivery) {
    const fields = parseOrRefuse(RelayAlert, parseJsonObject(delivery.body));

    const webhookId = delivery.headers.get(WEBHOOK_ID_HEADER)?.trim();
    const redeliveryKey = webhookId && webhookId.length <= MAX_REDELIVERY_KEY_LENGTH ? webhookId : undefined;
    const alert: NormalizedAlert = {
      source: "webhook",
      episode: `webhook:${await episodeKey(delivery, fields.id, redeliveryKey)}`,
      title: fields.title?.trim() || UNTITLED,
      severity: normalizeSeverity(fields.severity),
      firing: fields.status === "firing",
      status: fields.status,
      // fromEntries keeps a label named like an Object.prototype member as a plain label.
      labels: Object.fromEntries(Object.entries(fields.labels ?? {})),
      target: alertTarget(fields),
    };
    return redeliveryKey ? { alerts: [alert], redeliveryKey } : { alerts: [alert] };
  },
};

/**
 * What names the episode, most deliberate first: the alert's own `id`, else the delivery's
 * `webhook-id` (the same on every retry), else the body itself.
 */
async function episodeKey(delivery: RawDelivery, id: string | undefined, webhookId: string | undefined): Promise<string> {
  return id ?? (webhookId ? `delivery:${webhookId}` : `body:${await sha256Hex(delivery.body)}`);
}
