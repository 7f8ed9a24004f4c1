import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { expect } from "vitest";
import { ingestCounts } from "../../src/app";
import { RELAY } from "./relay";

export const SCRAPE_AUTH = { authorization: "Bearer metrics-test-token" };

/** Every name the exposition format allows for a metric or a label. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Go's float syntax as Prometheus reads a sample value. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

/**
 * `GET /metrics` as Prometheus scrapes it, parsed with a real parser (prom2json's, ported),
 * after the checks the parser leaves to the server: names and values in the format's syntax,
 * each family once, histogram buckets cumulative with `+Inf` equal to `_count`.
 */
export async function scrape(headers: Record<string, string> = SCRAPE_AUTH): Promise<Scrape> {
  // Ingest's counts are written in batches: let any write in flight land first.
  await ingestCounts.settled();
  const res = await exports.default.fetch(`${RELAY}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  expect(text.endsWith("\n")).toBe(true);
  const families = parsePrometheusTextFormat(text);
  checkFamilies(families);
  return new Scrape(text, families);
}

export function checkFamilies(families: ParsedFamily[]): void {
  expect(new Set(families.map((f) => f.name)).size, "each family appears once").toBe(families.length);
  for (const family of families) {
    expect(family.name).toMatch(METRIC_NAME);
    expect(["COUNTER", "GAUGE", "HISTOGRAM"], family.name).toContain(family.type);
    expect(family.help.length, `${family.name} has HELP`).toBeGreaterThan(0);
    if (family.type === "COUNTER") expect(family.name).toMatch(/_total$/);
    for (const sample of family.metrics) {
      for (const name of Object.keys(sample.labels ?? {})) expect(name).toMatch(LABEL_NAME);
      if (family.type === "HISTOGRAM") {
        // Sorted by bound: an object lists integer-like keys ("1", "5") before the others ("0.5").
        const buckets = Object.entries(sample.buckets ?? {}).sort(([a], [b]) => Number(a.replace("+Inf", "Infinity")) - Number(b.replace("+Inf", "Infinity")));
        expect(buckets.at(-1)?.[0], `${family.name} ends with +Inf`).toBe("+Inf");
        const counts = buckets.map(([, v]) => Number(v));
        expect(counts, `${family.name} buckets are cumulative`).toEqual([...counts].sort((a, b) => a - b));
        expect(counts.at(-1)).toBe(Number(sample.count));
        expect(sample.sum).toMatch(VALUE);
      } else {
        expect(sample.value, family.name).toMatch(VALUE);
      }
    }
  }
}

export class Scrape {
  constructor(
    readonly text: string,
    readonly families: ParsedFamily[],
  ) {}

  family(name: string): ParsedFamily | undefined {
    return this.families.find((f) => f.name === name);
  }

  /** The value of the one series of `name` with exactly these labels; undefined when it is not shown. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const sample = this.family(name)?.metrics.find((m) => sameLabels(m.labels ?? {}, labels));
    return sample?.value === undefined ? undefined : Number(sample.value);
  }

  histogram(name: string): { buckets: Record<string, number>; count: number; sum: number } {
    const sample = this.family(name)!.metrics[0]!;
    return {
      buckets: Object.fromEntries(Object.entries(sample.buckets ?? {}).map(([le, v]) => [le, Number(v)])),
      count: Number(sample.count),
      sum: Number(sample.sum),
    };
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Writes whatever ingest counts this isolate still holds (left by an earlier test whose write
 * met a storage reset), so that a test's first scrape starts from its own numbers.
 */
export async function flushIngestCounts(): Promise<void> {
  const ctx = createExecutionContext();
  ingestCounts.add([], env, ctx);
  await waitOnExecutionContext(ctx);
  await ingestCounts.settled();
}
