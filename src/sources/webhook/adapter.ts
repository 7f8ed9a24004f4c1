import { readSecret, readSecretList } from "../../config/secrets";
import { sha256Hex } from "../../crypto/hmac";
import { badRequest, unauthorized } from "../../model/http-errors";
import { formatIssues } from "../../model/schema-issues";
import type { RawDelivery, SourceAdapter } from "../adapter";
import type { AlertTarget, NormalizedAlert } from "../../model/alert";
import { normalizeSeverity } from "../severity";
import { verifyBearer } from "../bearer";
import { RelayAlert } from "./schema";
import { verifyStandardWebhook, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from "./signature";

const SECRET_NAME = "WEBHOOK_SECRET";
const TOKEN_NAME = "WEBHOOK_TOKEN";
/** A longer `webhook-id` is not used to drop redeliveries: it would not fit in a KV key. */
const MAX_REDELIVERY_KEY_LENGTH = 128;

const UNTITLED = "(untitled alert)";

/**
 * Any tool that signs webhooks the Standard Webhooks way (in-house tools, SaaS, hand-made
 * Jira Service Management, ServiceNow or Opsgenie automations), sending the relay's own
 * alert shape ({@link RelayAlert}).
 *
 * Two ways to authenticate, each enabled by its own binding: a Standard Webhooks signature
 * (`WEBHOOK_SECRET`, `whsec_…`, comma-separated during a rotation) or, for tools that cannot
 * sign, `Authorization: Bearer` (`WEBHOOK_TOKEN`). A request that carries a signature is
 * judged by it alone. `webhook-id` is the same on every retry, so it drops redeliveries.
 * @see https://www.standardwebhooks.com/
 */
export const webhook: SourceAdapter = {
  name: "webhook",
  contentTypes: ["application/json"],

  async verify(delivery, env, now) {
    const secrets = readSecretList(env, SECRET_NAME);
    const hasToken = readSecret(env, TOKEN_NAME) !== undefined;
    if (secrets.length === 0 && !hasToken) {
      throw unauthorized(`this source is disabled: neither ${SECRET_NAME} nor ${TOKEN_NAME} is set`);
    }
    if (delivery.headers.has(WEBHOOK_SIGNATURE_HEADER)) {
      if (secrets.length === 0) throw unauthorized(`signed deliveries are disabled: ${SECRET_NAME} is not set`);
      await verifyStandardWebhook(delivery.bytes, delivery.headers, secrets, now);
      return;
    }
    if (!hasToken) {
      throw unauthorized(`missing ${WEBHOOK_SIGNATURE_HEADER} header; bearer tokens are disabled: ${TOKEN_NAME} is not set`);
    }
    if (secrets.length > 0 && !delivery.headers.has("authorization")) {
      throw unauthorized(`missing ${WEBHOOK_SIGNATURE_HEADER} or Authorization header`);
    }
    await verifyBearer(delivery.headers, env, TOKEN_NAME);
  },

  async receive(delivery) {
    let json: unknown;
    try {
      json = JSON.parse(delivery.body);
    } catch {
      throw badRequest("body is not valid JSON");
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw badRequest("body must be a JSON object");
    const parsed = RelayAlert.safeParse(json);
    if (!parsed.success) throw badRequest(formatIssues(parsed.error));
    const fields = parsed.data;

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
      target: targetOf(fields),
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

function targetOf(fields: RelayAlert): AlertTarget {
  const target: AlertTarget = {};
  if (fields.device_id) target.device_id = fields.device_id;
  if (fields.user_email) target.user_email = fields.user_email;
  if (fields.registration_id) target.registration_id = fields.registration_id;
  if (fields.hostname) target.hostname = fields.hostname;
  return target;
}
