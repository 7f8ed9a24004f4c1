import { familyOf, labelKey, METRIC_FAMILIES, type Labels, type MetricFamily, type MetricSample } from "../model/metrics";

/** The media type of Prometheus' text exposition format, version 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label sets each family shows at 0 until counted (model/metrics.ts `seededLabels`). */
export type Seeds = ReadonlyArray<{ metric: MetricFamily; labels: Labels[] }>;

/**
 * Writes samples in the text exposition format 0.0.4: per family, `# HELP` and `# TYPE`
 * lines, then one line per series, label values escaped. Families come in the catalog's
 * order; a family with nothing to show is left out, except histograms, whose buckets are
 * always shown. Samples of no known family are dropped.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function renderExposition(samples: readonly MetricSample[], seeds: Seeds = []): string {
  const byFamily = new Map<string, MetricSample[]>();
  for (const sample of samples) {
    const metric = familyOf(sample.name);
    if (metric) byFamily.set(metric.name, [...(byFamily.get(metric.name) ?? []), sample]);
  }
  const lines: string[] = [];
  for (const metric of METRIC_FAMILIES) {
    const own = byFamily.get(metric.name) ?? [];
    const shown = metric.type === "histogram" ? histogramSamples(metric, own) : withSeeds(metric, own, seeds);
    if (shown.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
    for (const sample of shown) lines.push(`${sample.name}${formatLabels(sample.labels, metric)} ${formatValue(sample.value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function withSeeds(metric: MetricFamily, own: readonly MetricSample[], seeds: Seeds): MetricSample[] {
  const series = new Map(own.map((sample) => [labelKey(sample.labels), sample]));
  for (const seed of seeds.filter((s) => s.metric.name === metric.name)) {
    for (const labels of seed.labels) {
      const key = labelKey(labels);
      if (!series.has(key)) series.set(key, { name: metric.name, labels, value: 0 });
    }
  }
  return [...series.values()].sort((a, b) => compareLabels(a.labels, b.labels, metric));
}

/** Every bucket (cumulative, `+Inf` last), then `_sum` and `_count`, at 0 before the first observation. */
function histogramSamples(metric: MetricFamily, own: readonly MetricSample[]): MetricSample[] {
  const value = (name: string, le?: string) => own.find((sample) => sample.name === name && (le === undefined || sample.labels.le === le))?.value ?? 0;
  const bounds = [...(metric.buckets ?? []).map(String), "+Inf"];
  return [
    ...bounds.map((le) => ({ name: `${metric.name}_bucket`, labels: { le }, value: value(`${metric.name}_bucket`, le) })),
    { name: `${metric.name}_sum`, labels: {}, value: value(`${metric.name}_sum`) },
    { name: `${metric.name}_count`, labels: {}, value: value(`${metric.name}_count`) },
  ];
}

/** `{a="x",b="y"}` in the family's label order (`le` last), or nothing for a series without labels. */
function formatLabels(labels: Labels, metric: MetricFamily): string {
  const names = orderedLabelNames(labels, metric);
  if (names.length === 0) return "";
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`).join(",")}}`;
}

function orderedLabelNames(labels: Labels, metric: MetricFamily): string[] {
  const rank = (name: string) => (name === "le" ? Number.MAX_SAFE_INTEGER : metric.labels.indexOf(name));
  return Object.keys(labels).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function compareLabels(a: Labels, b: Labels, metric: MetricFamily): number {
  for (const name of metric.labels) {
    const order = (a[name] ?? "").localeCompare(b[name] ?? "");
    if (order !== 0) return order;
  }
  return 0;
}

/** Backslash, double quote and line feed are escaped in label values. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Backslash and line feed are escaped in HELP text. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Go's float syntax as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, else the number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
