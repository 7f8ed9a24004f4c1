import type { SourceAdapter } from "../adapter";
import { receiveAlertGroup } from "../alert-group";
import { bearerAuth } from "../bearer";

/**
 * Prometheus Alertmanager's `webhook_config`, authenticated with
 * `http_config.authorization` (`Authorization: Bearer`). One notification carries a whole
 * group; each alert in it becomes one normalized alert, and `fingerprint` + `startsAt`
 * name its episode, so the repeats Alertmanager sends every `repeat_interval` (and the
 * duplicates of an HA pair) never act twice.
 * @see https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export const alertmanager: SourceAdapter = {
  name: "alertmanager",
  contentTypes: ["application/json"],
  verify: bearerAuth("ALERTMANAGER_TOKEN"),

  async receive(delivery) {
    return receiveAlertGroup(delivery.body, "alertmanager");
  },
};
