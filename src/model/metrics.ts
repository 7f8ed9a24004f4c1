import { CHANNELS } from "./channels";
import { COMMAND_TYPES } from "./dex-api";

/**
 * Every series the relay exports on `GET /metrics`, in one place: the stages that count
 * name their series from here, the exposition writes HELP and TYPE from here, and the tests
 * hold the example dashboard and alert rules to these names.
 *
 * Names follow Prometheus' conventions: `dex_relay_` first, `_total` on counters, base units
 * (`_seconds`). Label values are the relay's own words (outcomes, channels, command types,
 * source names), never free text from a sender, so no sender can add series.
 * @see https://prometheus.io/docs/practices/naming/
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string>>;

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  /** Upper bounds of a histogram's buckets, in the family's unit; `+Inf` is added. */
  buckets?: readonly number[];
}

/** One value of one series. */
export interface MetricSample {
  name: string;
  labels: Labels;
  value: number;
}

/** What a stage adds to a counter; plain data, so it crosses the ledger's RPC boundary. */
export interface CounterIncrement {
  name: string;
  labels: Labels;
  by: number;
}

/** How a `POST /v1/alerts/{source}` was answered (src/receive/delivery-outcome.ts decides). */
export const DELIVERY_OUTCOMES = [
  "queued",
  "duplicate",
  "ignored",
  "dry-run",
  "unauthorized",
  "rate-limited",
  "invalid",
  "too-large",
  "unsupported-media-type",
  "unknown-source",
  "misconfigured",
  "unavailable",
  "error",
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** What became of a command the ledger held, once final. */
export const COMMAND_OUTCOMES = ["created", "failed", "expired"] as const;
/** What became of one attempt to send a report. */
export const REPORT_RESULTS = ["sent", "failed", "retried"] as const;

/** Seconds from the alert's arrival to its command's creation: a 2 s queue batch up to the 30-minute retry horizon. */
export const ALERT_TO_COMMAND_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

const family = (name: string, type: MetricType, help: string, labels: readonly string[] = [], buckets?: readonly number[]): MetricFamily => ({
  name,
  type,
  help,
  labels,
  ...(buckets ? { buckets } : {}),
});

export const METRICS = {
  deliveriesReceived: family(
    "dex_relay_deliveries_received_total",
    "counter",
    "Webhook deliveries to POST /v1/alerts/{source}, by source and how the relay answered (queued, duplicate, ignored, unauthorized, rate-limited, invalid, ...). A delivery may carry several alerts.",
    ["source", "outcome"],
  ),
  alertsQueued: family("dex_relay_alerts_queued_total", "counter", "Alerts in the deliveries the relay queued, by source.", ["source"]),
  deliveriesProcessed: family(
    "dex_relay_deliveries_processed_total",
    "counter",
    "Deliveries the queue consumer worked on, by source and the state each attempt left them in (done, in-progress, retrying, dead-lettered).",
    ["source", "state"],
  ),
  decisions: family(
    "dex_relay_decisions_total",
    "counter",
    "Decisions the queue consumer recorded for alerts, by source and outcome (created, duplicate, cooldown, no-rule, device-not-found, ...).",
    ["source", "outcome"],
  ),
  commands: family(
    "dex_relay_commands_total",
    "counter",
    "Commands the command ledger finished with, by type and final outcome: created (accepted by the DEX API), failed, or capped (the per-minute cap never had room).",
    ["type", "outcome"],
  ),
  commandStatuses: family(
    "dex_relay_command_statuses_total",
    "counter",
    "DEX statuses the ledger read for created commands, by type and status (PENDING_UPLOAD, SUCCESS, FAILED); each change is counted once.",
    ["type", "status"],
  ),
  commandRetries: family("dex_relay_command_retries_total", "counter", "Creates the ledger scheduled again after the DEX API failed, by command type.", [
    "type",
  ]),
  approvals: family("dex_relay_approvals_total", "counter", "Commands held for an operator's approval, by how the approval ended.", ["outcome"]),
  reports: family(
    "dex_relay_reports_total",
    "counter",
    "Attempts to send a report back (incident note, Slack, result webhook), by channel and result: sent, failed (for good) or retried.",
    ["channel", "result"],
  ),
  apiLockouts: family(
    "dex_relay_dex_api_lockouts_total",
    "counter",
    "Times the DEX API answered 429 and locked the relay's token out, while it was not locked out already.",
  ),
  deadLetters: family("dex_relay_dead_letters_total", "counter", "Deliveries that ran out of attempts and were kept as dead letters, by source.", ["source"]),
  alertToCommand: family(
    "dex_relay_alert_to_command_seconds",
    "histogram",
    "Seconds from the relay receiving an alert to the DEX API creating its command.",
    [],
    ALERT_TO_COMMAND_BUCKETS,
  ),
  apiBudget: family(
    "dex_relay_dex_api_budget_calls",
    "gauge",
    "DEX API calls the relay's budget allows right now (100 at most, refilled at 3 a second); 0 while locked out.",
  ),
  apiLockout: family("dex_relay_dex_api_lockout_seconds", "gauge", "Seconds until the DEX API lets the relay's token call again; 0 when it is not locked out."),
  commandsPending: family(
    "dex_relay_commands_pending",
    "gauge",
    "Commands the ledger holds that are not final yet, by state: waiting (for the cap, the budget or a 429), sending, uncertain (checking whether a failed create landed).",
    ["state"],
  ),
  reportsPending: family("dex_relay_reports_pending", "gauge", "Reports waiting to be sent or in flight."),
  quotaUsed: family("dex_relay_dex_command_quota_used", "gauge", "Commands used of the account's DEX command quota, as the ledger last read it."),
  quotaLeft: family(
    "dex_relay_dex_command_quota_left",
    "gauge",
    "Commands the account may at least still create before its DEX command quota resets, as the ledger last read it (quota - used, whichever way the API means quota).",
  ),
  quotaSpent: family(
    "dex_relay_dex_command_quota_spent",
    "gauge",
    "1 while the DEX command quota is spent and the ledger holds every create until the reset; else 0.",
  ),
  configProblems: family("dex_relay_config_problems", "gauge", "Problems the configuration check finds (GET /healthz lists them); 0 when the relay can work."),
  deadLettersWaiting: family("dex_relay_dead_letters_waiting", "gauge", "Dead letters kept (14 days) that no operator has replayed yet."),
} as const satisfies Record<string, MetricFamily>;

export const METRIC_FAMILIES: readonly MetricFamily[] = Object.values(METRICS);

/** The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` belong to it. */
export function familyOf(sampleName: string): MetricFamily | undefined {
  for (const candidate of METRIC_FAMILIES) {
    if (candidate.name === sampleName) return candidate;
    if (candidate.type === "histogram" && [`${candidate.name}_bucket`, `${candidate.name}_sum`, `${candidate.name}_count`].includes(sampleName))
      return candidate;
  }
  return undefined;
}

/** One increment of a counter family. */
export function increment(metric: MetricFamily, labels: Labels = {}, by = 1): CounterIncrement {
  return { name: metric.name, labels, by };
}

/**
 * Label sets every scrape shows, at 0 until something is counted, so that `increase()` and
 * `rate()` see a series from its first event on, not only from its second.
 */
export function seededLabels(sources: readonly string[]): ReadonlyArray<{ metric: MetricFamily; labels: Labels[] }> {
  return [
    {
      metric: METRICS.deliveriesReceived,
      labels: sources.flatMap((source) => ["queued", "rate-limited", "unauthorized", "invalid"].map((outcome) => ({ source, outcome }))),
    },
    { metric: METRICS.alertsQueued, labels: sources.map((source) => ({ source })) },
    { metric: METRICS.decisions, labels: sources.map((source) => ({ source, outcome: "created" })) },
    { metric: METRICS.deadLetters, labels: sources.map((source) => ({ source })) },
    { metric: METRICS.commands, labels: COMMAND_TYPES.flatMap((type) => COMMAND_OUTCOMES.map((outcome) => ({ type, outcome }))) },
    { metric: METRICS.reports, labels: CHANNELS.flatMap((channel) => REPORT_RESULTS.map((result) => ({ channel, result }))) },
    { metric: METRICS.apiLockouts, labels: [{}] },
  ];
}

/** A label set as one text, keys sorted: how the ledger keys a counter row. */
export function labelKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((key) => [key, labels[key]]),
  );
}
