/// <reference types="vite/client" />
import { SOURCES } from "../../src/sources/registry";

/** A real delivery body of one source, as its sender sends it. */
export interface SourceFixture {
  source: string;
  name: string;
  body: string;
  contentType: string;
}

const FORM = "application/x-www-form-urlencoded";

/** Every `src/sources/<name>/fixtures/*` file, found at build time so new sources are included. */
const files = import.meta.glob<string>("../../src/sources/*/fixtures/*", { query: "?raw", import: "default", eager: true });

/**
 * A PagerDuty fixture as PagerDuty would send it now: its `occurred_at` moved to a minute
 * ago, the rest of the text untouched. The relay refuses events older than PagerDuty's
 * retry window, and the fixtures were recorded long before the tests run.
 */
export function freshPagerDuty(body: string, now = new Date()): string {
  const recent = new Date(now.getTime() - 60_000).toISOString();
  return body.replace(/("occurred_at"\s*:\s*)"[^"]*"/g, `$1"${recent}"`);
}

/**
 * The fixtures of `source`: `.json` files are JSON deliveries, other files are form
 * deliveries when the source takes forms (Zapier). A source without fixtures gets none.
 */
export function fixturesOf(source: string): SourceFixture[] {
  const adapter = SOURCES[source];
  if (!adapter) return [];
  return Object.entries(files).flatMap(([path, body]) => {
    const match = /\/sources\/([^/]+)\/fixtures\/([^/]+)$/.exec(path);
    if (!match || match[1] !== source) return [];
    const name = match[2]!;
    const contentType = name.endsWith(".json") ? "application/json" : adapter.contentTypes.includes(FORM) ? FORM : undefined;
    if (!contentType) return [];
    return [{ source, name, body: source === "pagerduty" ? freshPagerDuty(body) : body, contentType }];
  });
}

/**
 * An Alertmanager notification (Grafana sends the same shape) carrying `alerts`: a firing
 * group as `webhook_config` posts it, with nothing grouped in common.
 */
export function alertGroup(alerts: Array<Record<string, unknown>>) {
  return {
    version: "4",
    status: "firing",
    receiver: "dex-alert-relay",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager.example.com:9093",
    alerts,
  };
}
