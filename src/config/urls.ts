/** PagerDuty's REST API, unless `PAGERDUTY_API_BASE` names another (a local stand-in). */
export const DEFAULT_PAGERDUTY_API_BASE = "https://api.pagerduty.com";

/** An http(s) URL as configured, trimmed; undefined when unset or not such a URL (the health check says which). */
export function httpUrl(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? text : undefined;
  } catch {
    return undefined;
  }
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `RELAY_PUBLIC_URL` without a trailing slash: where download, console and approval links point. */
export function relayPublicUrl(env: Env): string | undefined {
  const url = httpUrl(env.RELAY_PUBLIC_URL);
  return url ? trimSlash(url) : undefined;
}

/** Where PagerDuty's REST API is: for notes on incidents, and for reading an incident's alert. */
export function pagerDutyApiBase(env: Env): string {
  return trimSlash(httpUrl(env.PAGERDUTY_API_BASE) ?? DEFAULT_PAGERDUTY_API_BASE);
}
