/**
 * The webhook payload to paste into Datadog (Integrations → Webhooks → Payload), with
 * `{"Authorization": "Bearer <DATADOG_TOKEN>"}` as its Custom Headers. Datadog fills in
 * each `$` variable as text. `$ALERT_CYCLE_KEY` names the episode: keep it, or every
 * re-notification counts as a new alert.
 *
 * Optional top-level fields the relay also reads: `severity`, `device_id`, `user_email`,
 * `registration_id`. Tags such as `device_id:…` or `user_email:…` name the device too.
 *
 * Documentation, not code the Worker runs: nothing under src/ imports this module, and the
 * tests check that the adapter accepts it once Datadog has filled it in.
 * @see https://docs.datadoghq.com/integrations/webhooks/#variables
 */
export const DATADOG_PAYLOAD_TEMPLATE = `{
  "id": "$ID",
  "alert_id": "$ALERT_ID",
  "cycle": "$ALERT_CYCLE_KEY",
  "transition": "$ALERT_TRANSITION",
  "title": "$EVENT_TITLE",
  "hostname": "$HOSTNAME",
  "scope": "$ALERT_SCOPE",
  "tags": "$TAGS",
  "date": "$DATE",
  "link": "$LINK",
  "priority": "$PRIORITY"
}`;
