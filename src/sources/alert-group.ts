import { sha256Hex } from "../crypto/hmac";
import type { AlertTarget, NormalizedAlert } from "../model/alert";
import type { ReceivedAlerts } from "./adapter";
import { AlertGroupNotification, type GroupedAlert } from "./alertmanager/schema";
import { normalizeId } from "./ids";
import { MAX_REF_LENGTH, MAX_TARGET_LENGTH } from "./limits";
import { normalizeSeverity } from "./severity";
import { alertTarget, boundedLabels, cutTitle, parseBody } from "./toolkit";

/**
 * A title may come from a free-text description; it is cut rather than refused, and labels
 * past the bounds are dropped, because neither Alertmanager nor Grafana resends a refused
 * notification.
 */
const UNTITLED = "(untitled alert)";

/**
 * Turns an Alertmanager-style notification (Alertmanager's own, or Grafana's superset) into
 * one normalized alert per alert of the group, firing and resolved alike. `source` names
 * the alerts and prefixes their episodes.
 * @see https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export async function receiveAlertGroup(body: string, source: string): Promise<ReceivedAlerts> {
  const { alerts, commonLabels } = parseBody(AlertGroupNotification, body);
  if (alerts.length === 0) return { alerts: [], ignored: "the notification carries no alerts" };
  const common = strings(commonLabels);
  return { alerts: await Promise.all(alerts.map((alert) => toAlert(alert, common, source))) };
}

async function toAlert(alert: GroupedAlert, commonLabels: Record<string, string>, source: string): Promise<NormalizedAlert> {
  const own = strings(alert.labels);
  // commonLabels only holds labels every alert of the group shares; the alert's own win.
  const labels = { ...commonLabels, ...own };
  const annotations = strings(alert.annotations);

  const normalized: NormalizedAlert = {
    source,
    episode: `${source}:${normalizeId(await fingerprintOf(alert.fingerprint, own))}:${alert.startsAt}`,
    title: titleOf(labels, annotations),
    severity: normalizeSeverity(labels.severity),
    firing: alert.status.toLowerCase() === "firing",
    status: alert.status,
    labels: boundedLabels(Object.entries(labels)),
    target: targetOf(labels, annotations),
  };
  const generatorUrl = text(alert.generatorURL);
  if (generatorUrl && generatorUrl.length <= MAX_REF_LENGTH) normalized.refs = { generator_url: generatorUrl };
  return normalized;
}

/**
 * Alertmanager's fingerprint, or a stable stand-in: the SHA-256 of the alert's own labels,
 * sorted. `commonLabels` is left out because it changes as alerts join or leave the group.
 */
async function fingerprintOf(fingerprint: string | undefined, labels: Record<string, string>): Promise<string> {
  if (fingerprint?.trim()) return fingerprint.trim();
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(JSON.stringify(sorted));
}

function titleOf(labels: Record<string, string>, annotations: Record<string, string>): string {
  return cutTitle(text(annotations.summary) ?? text(annotations.description) ?? text(labels.alertname) ?? UNTITLED);
}

/**
 * Where the device hides in an alert: the alert's labels first, then its annotations. The
 * host name may also be spelled `host`, and is taken from `instance` as a last resort.
 */
function targetOf(labels: Record<string, string>, annotations: Record<string, string>): AlertTarget {
  return alertTarget({
    device_id: identity(labels.device_id) ?? identity(annotations.device_id),
    user_email: identity(labels.user_email) ?? identity(annotations.user_email),
    registration_id: identity(labels.registration_id) ?? identity(annotations.registration_id),
    hostname:
      identity(labels.hostname) ??
      identity(labels.host) ??
      identity(annotations.hostname) ??
      identity(annotations.host) ??
      identity(hostOfInstance(labels.instance)),
  });
}

/**
 * The host part of a Prometheus `instance` label: `host:9100` → `host`, `[::1]:9100` →
 * `::1`, a bare host or IPv6 address as it is, and the host of a URL (a blackbox probe's
 * target) rather than its scheme.
 */
export function hostOfInstance(instance: string | undefined): string | undefined {
  const value = text(instance);
  if (!value) return undefined;
  if (value.includes("://")) {
    try {
      return text(new URL(value).hostname.replace(/^\[(.*)\]$/, "$1"));
    } catch {
      return undefined;
    }
  }
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(value);
  if (bracketed) return text(bracketed[1]);
  const colon = value.indexOf(":");
  // More than one colon without brackets can only be a bare IPv6 address, which has no port.
  if (colon === -1 || colon !== value.lastIndexOf(":")) return value;
  return text(value.slice(0, colon));
}

/** A value fit to name a device: present, and no longer than any real one. */
function identity(value: string | undefined): string | undefined {
  const trimmed = text(value);
  return trimmed && trimmed.length <= MAX_TARGET_LENGTH ? trimmed : undefined;
}

/** The string entries of a label or annotation set, in order. */
function strings(map: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** A trimmed value, or undefined when there is none worth keeping. */
function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
