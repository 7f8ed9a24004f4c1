import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import dashboardJson from "../examples/grafana-dashboard.json?raw";
import alertRulesYaml from "../examples/prometheus-alerts.yml?raw";
import { COMMAND_OUTCOMES, DELIVERY_OUTCOMES, familyOf, METRIC_FAMILIES, REPORT_RESULTS, type MetricFamily } from "../src/model/metrics";

/** What Grafana puts in place of its built-in variables before a query reaches Prometheus. */
const GRAFANA_VARIABLES: Record<string, string> = { $__rate_interval: "5m", $__interval: "1m", $__range: "6h" };

/** Label values a matcher may name exactly, where the relay's values are a closed list. */
const KNOWN_VALUES: Record<string, Record<string, readonly string[]>> = {
  dex_relay_deliveries_received_total: { outcome: DELIVERY_OUTCOMES },
  dex_relay_commands_total: { outcome: COMMAND_OUTCOMES },
  dex_relay_reports_total: { result: REPORT_RESULTS },
};

interface Selector {
  metric: MetricFamily | undefined;
  name: string;
}

/**
 * Parses a PromQL expression with Prometheus' own grammar (the one its web UI uses) and
 * returns the series it selects and the labels it names. Throws on a syntax error.
 */
function readPromQL(expression: string): {
  selectors: Selector[];
  labels: string[];
  matchers: Array<{ metric: string; label: string; op: string; value: string }>;
} {
  const text = Object.entries(GRAFANA_VARIABLES).reduce((e, [variable, value]) => e.replaceAll(variable, value), expression);
  const tree = parser.parse(text);
  const selectors: Selector[] = [];
  const labels: string[] = [];
  const matchers: Array<{ metric: string; label: string; op: string; value: string }> = [];
  let currentMetric = "";
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      const source = text.slice(node.from, node.to);
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(text.slice(node.from, node.from + 20))}`);
      if (node.name === "VectorSelector") {
        const identifier = node.node.getChild("Identifier");
        currentMetric = identifier ? text.slice(identifier.from, identifier.to) : "";
        selectors.push({ name: currentMetric, metric: familyOf(currentMetric) });
      }
      if (node.name === "LabelName") labels.push(source);
      if (node.name === "UnquotedLabelMatcher") {
        const label = node.node.getChild("LabelName")!;
        const op = node.node.getChild("MatchOp")!;
        const value = node.node.getChild("StringLiteral")!;
        matchers.push({
          metric: currentMetric,
          label: text.slice(label.from, label.to),
          op: text.slice(op.from, op.to),
          value: JSON.parse(text.slice(value.from, value.to)),
        });
      }
    },
  });
  if (errors.length > 0) throw new Error(`not PromQL: ${expression} (${errors.join("; ")})`);
  return { selectors, labels, matchers };
}

/** Every expression names only series `GET /metrics` exports, labels they carry, and values they take. */
function expectRelaySeriesOnly(expression: string): string[] {
  const { selectors, labels, matchers } = readPromQL(expression);
  expect(selectors.length, `${expression} selects something`).toBeGreaterThan(0);
  for (const selector of selectors) expect(selector.metric, `${selector.name} in ${expression}`).toBeDefined();
  const families = selectors.map((s) => s.metric!);
  const carried = new Set(families.flatMap((f) => [...f.labels, ...(f.type === "histogram" ? ["le"] : [])]));
  for (const label of labels) expect(carried.has(label), `label ${label} in ${expression}`).toBe(true);
  for (const { metric, label, op, value } of matchers) {
    const known = KNOWN_VALUES[metric]?.[label];
    if (!known) continue;
    if (op === "=") expect(known, `${metric}{${label}="${value}"}`).toContain(value);
    if (op === "=~") for (const alternative of value.split("|")) expect(known, `${metric}{${label}=~"${value}"}`).toContain(alternative);
  }
  return families.map((f) => f.name);
}

describe("the PromQL reader the checks below rely on", () => {
  it("refuses what is not PromQL, and finds every series and label of what is", () => {
    expect(() => readPromQL("sum(rate(dex_relay_decisions_total[5m])")).toThrow(/not PromQL/);
    expect(() => expectRelaySeriesOnly("up == 0")).toThrow();
    expect(() => expectRelaySeriesOnly("sum by (outcomes) (dex_relay_decisions_total)")).toThrow();
    expect(() => expectRelaySeriesOnly('dex_relay_deliveries_received_total{outcome="rate_limited"}')).toThrow();
    expect(
      expectRelaySeriesOnly(
        "histogram_quantile(0.9, sum by (le) (rate(dex_relay_alert_to_command_seconds_bucket[$__rate_interval]))) > 0 unless dex_relay_commands_pending",
      ),
    ).toEqual(["dex_relay_alert_to_command_seconds", "dex_relay_commands_pending"]);
  });
});

describe("examples/grafana-dashboard.json", () => {
  const dashboard = JSON.parse(dashboardJson);
  const panels: any[] = dashboard.panels;
  const queryPanels = panels.filter((p) => p.type !== "row");

  it("has what Grafana's dashboard schema requires, and imports with a Prometheus data source as its one input", () => {
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{8,40}$/);
    expect(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36).toBe(true);
    expect(dashboard.editable).toEqual(expect.any(Boolean));
    expect([0, 1, 2]).toContain(dashboard.graphTooltip);
    expect(dashboard.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    expect(dashboard.id).toBeNull();
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" })]);
    expect(Array.isArray(panels) && panels.length > 0).toBe(true);
  });

  it("gives every panel a unique id, a type and a place on the 24-column grid, overlapping none", () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { id, type, title, gridPos } of panels) {
      expect(type, `panel ${id}`).toMatch(/^[a-z][a-z-]*$/);
      expect(title, `panel ${id}`).toEqual(expect.any(String));
      const { h, w, x, y } = gridPos;
      expect(
        [h, w, x, y].every((n) => Number.isInteger(n)),
        `panel ${id} gridPos`,
      ).toBe(true);
      expect(h > 0 && w > 0 && w <= 24 && x >= 0 && x + w <= 24 && y >= 0, `panel ${id} gridPos ${JSON.stringify(gridPos)}`).toBe(true);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          expect(cells.has(`${row}:${column}`), `panel ${id} overlaps another at ${row}:${column}`).toBe(false);
          cells.add(`${row}:${column}`);
        }
      }
    }
  });

  it("queries the relay's Prometheus in every panel, with the fields Grafana requires of a panel", () => {
    for (const panel of queryPanels) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own input placeholder, which the import asks to fill.
      expect(panel.datasource, `panel ${panel.id}`).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      expect(panel.fieldConfig, `panel ${panel.id}`).toEqual({ defaults: expect.any(Object), overrides: expect.any(Array) });
      expect(panel.options, `panel ${panel.id}`).toEqual(expect.any(Object));
      expect(panel.transformations, `panel ${panel.id}`).toEqual(expect.any(Array));
      expect(panel.targets.length, `panel ${panel.id} targets`).toBeGreaterThan(0);
      const refIds = panel.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size, `panel ${panel.id} refIds`).toBe(refIds.length);
      for (const target of panel.targets) {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own input placeholder, as above.
        expect(target.datasource).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
        expect(target.expr).toEqual(expect.any(String));
      }
    }
  });

  it("names only series the relay exports, and shows every one of them", () => {
    const shown = new Set(queryPanels.flatMap((p) => p.targets.flatMap((t: any) => expectRelaySeriesOnly(t.expr))));
    expect([...shown].sort()).toEqual(METRIC_FAMILIES.map((f) => f.name).sort());
  });
});

describe("examples/prometheus-alerts.yml", () => {
  const rules = parseYaml(alertRulesYaml) as { groups: Array<{ name: string; rules: any[] }> };
  const alerts = rules.groups.flatMap((group) => group.rules);

  it("is a Prometheus rule file: groups with a name, alerting rules with an expression, a severity and a summary", () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    for (const group of rules.groups) {
      expect(group.name).toEqual(expect.any(String));
      expect(Object.keys(group).sort()).toEqual(["name", "rules"]);
    }
    const names = alerts.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of alerts) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(rule.expr, rule.alert).toEqual(expect.any(String));
      expect(
        Object.keys(rule).every((key) => ["alert", "expr", "for", "keep_firing_for", "labels", "annotations"].includes(key)),
        rule.alert,
      ).toBe(true);
      if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(/^\d+[smhdwy]$/);
      expect(["critical", "warning", "info"], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toEqual(expect.any(String));
    }
  });

  it("names only series the relay exports, with labels and values they carry", () => {
    for (const rule of alerts) expectRelaySeriesOnly(rule.expr);
  });

  it("covers the relay's own trouble: a locked-out token, dead letters, a spent quota, failing reports, alerts queued but not processed", () => {
    const watched = (name: string) => alerts.filter((rule) => readPromQL(rule.expr).selectors.some((s) => s.name === name)).map((rule) => rule.alert);
    expect(watched("dex_relay_dex_api_lockout_seconds")).not.toEqual([]);
    expect(watched("dex_relay_dead_letters_waiting")).not.toEqual([]);
    expect(watched("dex_relay_dex_command_quota_left")).not.toEqual([]);
    expect(watched("dex_relay_reports_total")).not.toEqual([]);
    const notProcessing = alerts.find((rule) => rule.alert === "DexRelayNotProcessing")!;
    expect(readPromQL(notProcessing.expr).selectors.map((s) => s.name)).toEqual([
      "dex_relay_deliveries_received_total",
      "dex_relay_deliveries_processed_total",
    ]);
  });
});
