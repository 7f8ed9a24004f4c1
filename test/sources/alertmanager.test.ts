/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { alertmanager } from "../../src/sources/alertmanager/adapter";
import firing from "../../src/sources/alertmanager/fixtures/packet-loss.firing.json?raw";
import refired from "../../src/sources/alertmanager/fixtures/packet-loss.refired.json?raw";
import repeat from "../../src/sources/alertmanager/fixtures/packet-loss.repeat.json?raw";
import resolved from "../../src/sources/alertmanager/fixtures/packet-loss.resolved.json?raw";
import { MAX_ALERTS_PER_NOTIFICATION } from "../../src/sources/alertmanager/schema";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader } from "./adapter-suite";

function deliver(body: string, contentType = "application/json") {
  return Promise.resolve(rawDelivery(body, { Authorization: `Bearer ${env.ALERTMANAGER_TOKEN}` }, contentType));
}

/** The firing group with `change` applied, as Alertmanager would serialize it. */
function groupWith(change: (group: { alerts: Record<string, unknown>[] } & Record<string, unknown>) => void): string {
  const group = JSON.parse(firing);
  change(group);
  return JSON.stringify(group);
}

describeSourceAdapter({
  adapter: alertmanager,
  secretBindings: ["ALERTMANAGER_TOKEN"],
  deliver,
  withWrongAuth: async (delivery) => withHeader(delivery, "Authorization", "Bearer token-of-another-alertmanager"),
  withoutAuth: (delivery) => withoutHeader(delivery, "Authorization"),
  authCoversBody: false,
  firing: [
    {
      name: "a group of three alerts on three hosts, two firing and one resolved",
      body: firing,
      alerts: [
        {
          title: "WARP tunnel packet loss 9.2% on LT-0442",
          episode: "alertmanager:3f8c1a9d2e7b4c60:2026-03-12T09:38:07.104Z",
          severity: "critical",
          status: "firing",
          labels: {
            alertname: "WarpTunnelPacketLoss",
            team: "it-network",
            instance: "lt-0442.corp.example.com:9182",
            job: "windows-exporter",
            severity: "critical",
          },
          target: { user_email: "marco.rossi@example.com", hostname: "lt-0442.corp.example.com" },
          refs: {
            generator_url: "http://prometheus.corp.example.com:9090/graph?g0.expr=warp_tunnel_packet_loss_ratio+%3E+0.05&g0.tab=1",
          },
        },
        {
          title: "WARP tunnel packet loss 6.8% on MBP-AKIM-14",
          episode: "alertmanager:a41b7e09c2d35f18:2026-03-12T09:40:37.104Z",
          severity: "critical",
          status: "firing",
          labels: {
            alertname: "WarpTunnelPacketLoss",
            team: "it-network",
            hostname: "MBP-AKIM-14",
            instance: "[fd00:10:20::42]:9100",
            job: "node-exporter",
            severity: "critical",
            user_email: "alex.kim@example.com",
          },
          target: {
            device_id: "7d2e4f10-93ab-4c55-8e21-6b0f3a9c1d77",
            user_email: "alex.kim@example.com",
            hostname: "MBP-AKIM-14",
          },
          refs: {
            generator_url: "http://prometheus.corp.example.com:9090/graph?g0.expr=warp_tunnel_packet_loss_ratio+%3E+0.05&g0.tab=1",
          },
        },
        {
          title: "WARP tunnel packet loss 5.4% on 10.20.4.17",
          episode: "alertmanager:c09d2f6e1a8b7354:2026-03-12T08:51:22.604Z",
          severity: "warning",
          status: "resolved",
          firing: false,
          labels: {
            alertname: "WarpTunnelPacketLoss",
            team: "it-network",
            instance: "10.20.4.17:9100",
            job: "node-exporter",
            severity: "warning",
          },
          target: { hostname: "10.20.4.17" },
          refs: {
            generator_url: "http://prometheus.corp.example.com:9090/graph?g0.expr=warp_tunnel_packet_loss_ratio+%3E+0.05&g0.tab=1",
          },
        },
      ],
    },
    {
      name: "one alert of the group firing again after it recovered",
      body: refired,
      alerts: [
        {
          title: "WARP tunnel packet loss 8.3% on LT-0442",
          episode: "alertmanager:3f8c1a9d2e7b4c60:2026-03-12T14:02:52.104Z",
          severity: "critical",
          status: "firing",
          labels: {
            alertname: "WarpTunnelPacketLoss",
            instance: "lt-0442.corp.example.com:9182",
            job: "windows-exporter",
            severity: "critical",
            team: "it-network",
          },
          target: { user_email: "marco.rossi@example.com", hostname: "lt-0442.corp.example.com" },
          refs: {
            generator_url: "http://prometheus.corp.example.com:9090/graph?g0.expr=warp_tunnel_packet_loss_ratio+%3E+0.05&g0.tab=1",
          },
        },
      ],
    },
  ],
  notFiring: [
    { name: "the whole group resolved", body: resolved },
    { name: "a group with no alerts left", body: groupWith((g) => (g.alerts = [])), ignored: /no alerts/ },
  ],
  malformed: [
    { name: "alerts is missing", body: groupWith((g) => delete (g as Partial<typeof g>).alerts), field: "alerts" },
    {
      name: `more than ${MAX_ALERTS_PER_NOTIFICATION} alerts`,
      body: groupWith((g) => (g.alerts = Array.from({ length: MAX_ALERTS_PER_NOTIFICATION + 1 }, () => g.alerts[0]!))),
      field: "alerts",
    },
    { name: "an alert has no startsAt", body: groupWith((g) => delete g.alerts[1]!.startsAt), field: "alerts[1].startsAt" },
    { name: "an alert's labels are not an object", body: groupWith((g) => (g.alerts[2]!.labels = "instance=10.20.4.17:9100")), field: "alerts[2].labels" },
    { name: "an alert's status is not text", body: groupWith((g) => (g.alerts[0]!.status = 1)), field: "alerts[0].status" },
  ],
  sameEpisode: [
    {
      name: "the group re-sent after repeat_interval, with updated summaries",
      first: () => deliver(firing),
      again: () => deliver(repeat),
    },
  ],
  newEpisode: [
    {
      name: "an alert that fires again with a new startsAt",
      first: () => deliver(firing),
      again: () => deliver(refired),
    },
  ],
});
