import { readSecret } from "../../config/secrets";
import { unauthorized } from "../../model/http-errors";
import type { SourceAdapter } from "../adapter";
import { receiveAlertGroup } from "../alert-group";
import { signedOrBearerAuth } from "../bearer";
import { GRAFANA_SIGNATURE_HEADER, verifyGrafanaSignature } from "./signature";

const SECRET_NAME = "GRAFANA_WEBHOOK_SECRET";
const TOKEN_NAME = "GRAFANA_TOKEN";
/** Names the header Grafana puts the signed timestamp in. */
const TIMESTAMP_HEADER_NAME = "GRAFANA_TIMESTAMP_HEADER";
/**
 * `true` accepts HMAC signatures without a timestamp. A signature without one never
 * expires, so a captured delivery could be replayed for ever: it is the operator's choice.
 */
const UNTIMESTAMPED_OPT_OUT = "GRAFANA_HMAC_WITHOUT_TIMESTAMP";

/**
 * Grafana unified alerting's "Webhook" contact point. Its body is Alertmanager's with extra
 * fields, so alerts map exactly as Alertmanager's do, under episodes prefixed `grafana:`.
 *
 * Two ways to authenticate, each enabled by its own binding: an HMAC signature
 * (`GRAFANA_WEBHOOK_SECRET`, Grafana 12+) or `Authorization: Bearer` (`GRAFANA_TOKEN`). A
 * request that carries a signature is judged by it alone (see signedOrBearerAuth).
 * @see https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export const grafana: SourceAdapter = {
  name: "grafana",
  contentTypes: ["application/json"],

  verify: signedOrBearerAuth({
    signatureHeader: GRAFANA_SIGNATURE_HEADER,
    secretName: SECRET_NAME,
    readSecret: (env) => readSecret(env, SECRET_NAME),
    tokenName: TOKEN_NAME,
    async verifySignature(delivery, secret, env, now) {
      // A plain setting, not a secret; readSecret treats blank as unset like everywhere else.
      const timestampHeader = readSecret(env, TIMESTAMP_HEADER_NAME);
      if (!timestampHeader && readSecret(env, UNTIMESTAMPED_OPT_OUT)?.toLowerCase() !== "true") {
        throw unauthorized(
          `signed deliveries need a timestamp: set ${TIMESTAMP_HEADER_NAME} to the contact point's timestamp header, or ${UNTIMESTAMPED_OPT_OUT}=true`,
        );
      }
      await verifyGrafanaSignature(delivery.bytes, delivery.headers, secret, timestampHeader, now);
    },
  }),

  async receive(delivery) {
    return receiveAlertGroup(delivery.body, "grafana");
  },
};
