import type { SourceAdapter } from "./adapter";
import { alertmanager } from "./alertmanager/adapter";
import { cloudflare } from "./cloudflare/adapter";
import { datadog } from "./datadog/adapter";
import { grafana } from "./grafana/adapter";
import { pagerduty } from "./pagerduty/adapter";
import { webhook } from "./webhook/adapter";
import { zapier } from "./zapier/adapter";

/** Every source the relay accepts, by the name in `POST /v1/alerts/{source}`. */
export const SOURCES: Readonly<Record<string, SourceAdapter>> = Object.freeze({
  [alertmanager.name]: alertmanager,
  [cloudflare.name]: cloudflare,
  [datadog.name]: datadog,
  [grafana.name]: grafana,
  [pagerduty.name]: pagerduty,
  [webhook.name]: webhook,
  [zapier.name]: zapier,
});

export const SOURCE_NAMES: readonly string[] = Object.keys(SOURCES);

export function sourceNamed(name: string): SourceAdapter | undefined {
  return Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
}
