/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe } from "vitest";
import type { RawDelivery } from "../../src/sources/adapter";
import firing from "../../src/sources/grafana/fixtures/dns-latency.firing.json?raw";
import resolved from "../../src/sources/grafana/fixtures/dns-latency.resolved.json?raw";
import { grafana } from "../../src/sources/grafana/adapter";
import { signGrafana } from "../helpers/sign";
import { describeSourceAdapter, rawDelivery, withHeader, withoutHeader, type SourceAdapterSpec } from "./adapter-suite";

const SIGNATURE = "X-Grafana-Alerting-Signature";

/** The firing group with its first alert firing again from a new start, Grafana's next episode. */
function refired(): string {
  const group = JSON.parse(firing);
  group.alerts = [{ ...group.alerts[0], startsAt: "2026-03-12T13:20:10Z" }];
  return JSON.stringify(group);
}

/** The firing group re-sent unchanged but for the values Grafana evaluated since. */
function repeated(): string {
  const group = JSON.parse(firing);
  group.alerts[0].values = { A: 0.437, C: 1 };
  group.alerts[0].annotations.description = "DoH resolution through WARP takes 437 ms at p95 (threshold 250 ms).";
  return JSON.stringify(group);
}

/** The fixture's group with `change` applied to its first alert. */
function firstAlertWith(change: (alert: Record<string, unknown>) => void): string {
  const group = JSON.parse(firing);
  change(group.alerts[0]);
  return JSON.stringify(group);
}

/** What both ways of authenticating share: the fixtures and what they map to. */
function spec(deliver: (body: string) => Promise<RawDelivery>): Omit<SourceAdapterSpec, "secretBindings" | "withWrongAuth" | "withoutAuth" | "authCoversBody"> {
  return {
    adapter: grafana,
    deliver,
    firing: [
      {
        name: "a unified alerting group, one alert firing and one resolved",
        body: firing,
        alerts: [
          {
            title: "Slow DNS resolution on LT-0442",
            episode: "grafana:6a1d0e3b9c4f7a25:2026-03-12T09:44:10Z",
            severity: "warning",
            status: "firing",
            labels: {
              alertname: "WarpDnsLatencyHigh",
              grafana_folder: "IT Network",
              severity: "warning",
              team: "it-network",
              hostname: "LT-0442",
              user_email: "marco.rossi@example.com",
            },
            target: { user_email: "marco.rossi@example.com", hostname: "LT-0442" },
            refs: {
              generator_url: "https://grafana.corp.example.com/alerting/grafana/be7mz2xk1qa9sd/view?orgId=1",
            },
          },
          {
            title: "Slow DNS resolution on DESKTOP-7QK2M",
            episode: "grafana:d2f85c07ab1e3964:2026-03-12T08:57:10Z",
            severity: "warning",
            status: "resolved",
            firing: false,
            labels: {
              alertname: "WarpDnsLatencyHigh",
              grafana_folder: "IT Network",
              severity: "warning",
              team: "it-network",
              hostname: "DESKTOP-7QK2M",
              user_email: "priya.raman@example.com",
            },
            target: { user_email: "priya.raman@example.com", hostname: "DESKTOP-7QK2M" },
            refs: {
              generator_url: "https://grafana.corp.example.com/alerting/grafana/be7mz2xk1qa9sd/view?orgId=1",
            },
          },
        ],
      },
    ],
    notFiring: [{ name: "the alert resolved", body: resolved }],
    malformed: [
      { name: "an alert has no labels", body: firstAlertWith((a) => delete a.labels), field: "alerts[0].labels" },
      { name: "an alert's startsAt is a number", body: firstAlertWith((a) => (a.startsAt = 1773308650)), field: "alerts[0].startsAt" },
      { name: "alerts is an object", body: JSON.stringify({ ...JSON.parse(firing), alerts: {} }), field: "alerts" },
    ],
    sameEpisode: [{ name: "the group re-sent with newer values", first: () => deliver(firing), again: () => deliver(repeated()) }],
    newEpisode: [{ name: "the alert firing again from a new start", first: () => deliver(firing), again: () => deliver(refired()) }],
  };
}

describe("signed with GRAFANA_WEBHOOK_SECRET", () => {
  const deliver = async (body: string) => rawDelivery(body, { [SIGNATURE]: await signGrafana(body, env.GRAFANA_WEBHOOK_SECRET) });
  describeSourceAdapter({
    ...spec(deliver),
    secretBindings: ["GRAFANA_WEBHOOK_SECRET"],
    withWrongAuth: async (delivery) => withHeader(delivery, SIGNATURE, await signGrafana(delivery.body, "grafana-revoked-secret")),
    withoutAuth: (delivery) => withoutHeader(delivery, SIGNATURE),
    authCoversBody: true,
  });
});

describe("authenticated with GRAFANA_TOKEN", () => {
  const deliver = async (body: string) => rawDelivery(body, { Authorization: `Bearer ${env.GRAFANA_TOKEN}` });
  describeSourceAdapter({
    ...spec(deliver),
    secretBindings: ["GRAFANA_TOKEN"],
    withWrongAuth: async (delivery) => withHeader(delivery, "Authorization", "Bearer token-of-another-grafana"),
    withoutAuth: (delivery) => withoutHeader(delivery, "Authorization"),
    authCoversBody: false,
  });
});
