/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { datadog } from "../../src/sources/datadog/adapter";
import noHostWarn from "../../src/sources/datadog/fixtures/no-host-warn.json?raw";
import recovered from "../../src/sources/datadog/fixtures/recovered.json?raw";
import reTriggered from "../../src/sources/datadog/fixtures/re-triggered.json?raw";
import triggered from "../../src/sources/datadog/fixtures/triggered.json?raw";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader } from "./adapter-suite";

function deliver(body: string, contentType = "application/json") {
  return Promise.resolve(rawDelivery(body, { Authorization: `Bearer ${env.DATADOG_TOKEN}` }, contentType));
}

/** The Triggered fixture with some fields replaced, as a differently filled template would send it. */
function triggeredWith(fields: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(triggered), ...fields });
}

const LT_0442 = {
  device_id: "0f5c2b9e-7a41-4d3c-9e8a-1b2c3d4e5f60",
  user_email: "marco.rossi@example.com",
  hostname: "lt-0442",
};

/** The monitor's tags, its scope and its priority: the same on every notification of the monitor. */
const LT_0442_LABELS = {
  device_id: "0f5c2b9e-7a41-4d3c-9e8a-1b2c3d4e5f60",
  env: "prod",
  host: "lt-0442",
  managed: "true",
  os: "windows",
  team: "it-network",
  user_email: "marco.rossi@example.com",
  scope: "host:lt-0442",
  priority: "P2",
};

describeSourceAdapter({
  adapter: datadog,
  secretBindings: ["DATADOG_TOKEN"],
  deliver,
  withWrongAuth: async (delivery) => withHeader(delivery, "Authorization", "Bearer token-of-another-datadog-org"),
  withoutAuth: (delivery) => withoutHeader(delivery, "Authorization"),
  authCoversBody: false,
  firing: [
    {
      name: "Triggered",
      body: triggered,
      alerts: [
        {
          title: "[Triggered on {host:lt-0442}] WARP tunnel packet loss above 5%",
          episode: "datadog:148932016:7806264543658765432",
          severity: "error",
          status: "Triggered",
          labels: LT_0442_LABELS,
          target: LT_0442,
          refs: {
            event_id: "7806264543658765432",
            link: "https://app.datadoghq.com/event/event?id=7806264543658765432",
          },
        },
      ],
    },
    {
      name: "Re-Triggered, with $DATE as a number",
      body: reTriggered,
      alerts: [
        {
          title: "[Re-Triggered on {host:lt-0442}] WARP tunnel packet loss above 5%",
          episode: "datadog:148932016:7806264543658765432",
          severity: "error",
          status: "Re-Triggered",
          labels: LT_0442_LABELS,
          target: LT_0442,
          refs: {
            event_id: "7806301192460288117",
            link: "https://app.datadoghq.com/event/event?id=7806301192460288117",
          },
        },
      ],
    },
  ],
  notFiring: [
    { name: "Recovered", body: recovered },
    { name: "Warn on a monitor grouped by office", body: noHostWarn },
    { name: "No Data", body: triggeredWith({ transition: "No Data" }) },
    { name: "Renotify", body: triggeredWith({ transition: "Renotify" }) },
  ],
  malformed: [
    { name: "alert_id is missing", body: triggeredWith({ alert_id: undefined }), field: "alert_id" },
    { name: "$ALERT_ID was not filled in", body: triggeredWith({ alert_id: "$ALERT_ID" }), field: "alert_id" },
    { name: "transition is not text", body: triggeredWith({ transition: ["Triggered"] }), field: "transition" },
    { name: "tags is a list", body: triggeredWith({ tags: ["host:lt-0442"] }), field: "tags" },
    { name: "neither cycle nor id is given", body: triggeredWith({ cycle: "", id: undefined }), field: "cycle" },
  ],
  sameEpisode: [
    { name: "Re-Triggered within the same alert cycle", first: () => deliver(triggered), again: () => deliver(reTriggered) },
    {
      name: "Renotify within the same alert cycle",
      first: () => deliver(triggered),
      again: () => deliver(triggeredWith({ id: "7806377215030019884", transition: "Renotify" })),
    },
  ],
  newEpisode: [
    {
      name: "the monitor triggering again in a new alert cycle",
      first: () => deliver(triggered),
      again: () => deliver(triggeredWith({ id: "7806498830014470021", cycle: "7806498830014470021" })),
    },
    {
      name: "another monitor on the same host",
      first: () => deliver(triggered),
      again: () => deliver(triggeredWith({ alert_id: "148932017" })),
    },
  ],
});
