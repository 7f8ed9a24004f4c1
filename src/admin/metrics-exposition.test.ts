import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { checkFamilies } from "../../test/helpers/metrics";
import { ALERT_TO_COMMAND_BUCKETS, METRICS } from "../model/metrics";
import { formatValue, renderExposition } from "./metrics-exposition";

describe("renderExposition", () => {
  it("writes HELP and TYPE once per family, then its series, in a form a Prometheus parser reads back", () => {
    const text = renderExposition([
      { name: METRICS.commands.name, labels: { type: "pcap", outcome: "created" }, value: 3 },
      { name: METRICS.commands.name, labels: { outcome: "failed", type: "pcap" }, value: 1 },
      { name: METRICS.apiBudget.name, labels: {}, value: 97 },
    ]);
    const families = parsePrometheusTextFormat(text);
    checkFamilies(families);
    const commands = families.find((f) => f.name === "dex_relay_commands_total")!;
    expect(commands.type).toBe("COUNTER");
    expect(commands.help).toBe(METRICS.commands.help);
    expect(commands.metrics).toEqual([
      { labels: { type: "pcap", outcome: "created" }, value: "3" },
      { labels: { type: "pcap", outcome: "failed" }, value: "1" },
    ]);
    expect(families.find((f) => f.name === "dex_relay_dex_api_budget_calls")).toMatchObject({ type: "GAUGE", metrics: [{ value: "97" }] });
    expect(text.match(/^# TYPE dex_relay_commands_total counter$/gm)).toHaveLength(1);
  });

  it("escapes backslashes, double quotes and line feeds in label values, and the parser reads back the same value", () => {
    const nasty = 'a\\b "quoted"\nnext line';
    const text = renderExposition([{ name: METRICS.approvals.name, labels: { outcome: nasty }, value: 1 }]);
    expect(text).toContain('dex_relay_approvals_total{outcome="a\\\\b \\"quoted\\"\\nnext line"} 1');
    const [family] = parsePrometheusTextFormat(text);
    expect(family!.metrics[0]!.labels).toEqual({ outcome: nasty });
  });

  it("shows every histogram bucket, cumulative, with +Inf, sum and count, at 0 before the first observation", () => {
    const families = parsePrometheusTextFormat(renderExposition([]));
    checkFamilies(families);
    const histogram = families.find((f) => f.name === "dex_relay_alert_to_command_seconds")!;
    expect(histogram.type).toBe("HISTOGRAM");
    expect(Object.keys(histogram.metrics[0]!.buckets!).sort()).toEqual([...ALERT_TO_COMMAND_BUCKETS.map(String), "+Inf"].sort());
    expect(histogram.metrics[0]).toMatchObject({ count: "0", sum: "0" });
  });

  it("shows seeded series at 0 and leaves out families with nothing to show", () => {
    const text = renderExposition([], [{ metric: METRICS.reports, labels: [{ channel: "slack", result: "failed" }] }]);
    expect(text).toContain('dex_relay_reports_total{channel="slack",result="failed"} 0');
    expect(text).not.toContain("dex_relay_approvals_total");
    expect(text).not.toContain("dex_relay_dex_command_quota_left");
  });

  it("drops samples of no known family", () => {
    expect(renderExposition([{ name: "something_else_total", labels: {}, value: 1 }])).not.toContain("something_else");
  });

  it("writes values in Go's float syntax", () => {
    expect([1, 0.25, 1e21, Infinity, -Infinity, NaN].map(formatValue)).toEqual(["1", "0.25", "1e+21", "+Inf", "-Inf", "NaN"]);
  });
});
