import { jsonErrorOffset } from "../config/json-position";
import { allowsOnDemand, loadRules } from "../config/load-rules";
import { dexApiTokenOf, loadDexSettings } from "../config/settings";
import { readSecret, type TextBinding } from "../config/secrets";
import { CHANNELS } from "../model/channels";
import { readChannels } from "../config/channels";
import { SOURCE_NAMES } from "../sources/registry";

/** The secrets that turn each source on: a source with none of its secrets set refuses everything. */
export const SOURCE_SECRETS: Readonly<Record<string, readonly TextBinding[]>> = {
  pagerduty: ["PAGERDUTY_WEBHOOK_SECRET"],
  zapier: ["ZAPIER_TOKEN"],
  alertmanager: ["ALERTMANAGER_TOKEN"],
  grafana: ["GRAFANA_WEBHOOK_SECRET", "GRAFANA_TOKEN"],
  datadog: ["DATADOG_TOKEN"],
  webhook: ["WEBHOOK_SECRET", "WEBHOOK_TOKEN"],
  cloudflare: ["CLOUDFLARE_NOTIFICATIONS_SECRET"],
};

export interface HealthReport {
  ok: boolean;
  /** What is wrong, each naming the setting; never a secret's value. */
  problems: string[];
  rules: number | null;
  sources: Record<string, boolean>;
  operator: { admin_token: boolean; access: boolean };
  /** Where reports go: each channel whose settings are complete. */
  channels: Record<string, boolean>;
  pagerduty_enrichment: boolean;
  /** Captures on demand: the rules that allow them, and whether PagerDuty actions are on (PAGERDUTY_ACTION_SECRET). */
  on_demand: { rules: number; pagerduty_action: boolean };
  /** Slack's Approve and Deny buttons: clicks are verified (SLACK_SIGNING_SECRET), and from one workspace only (SLACK_TEAM_ID). */
  slack_interactions: { signing_secret: boolean; team_pinned: boolean };
}

/**
 * Whether the configuration can work: the same checks the relay makes when an alert comes,
 * run up front, each problem on its own. Shared by `GET /healthz` and `npm run check`.
 */
export function checkHealth(env: Env): HealthReport {
  const vars = env as unknown as Record<string, unknown>;
  const problems: string[] = [];
  const set = (name: TextBinding) => readSecret(env, name) !== undefined;

  // The placeholder account id is one of the settings' own refusals.
  const dex = loadDexSettings(env);
  if (!dex.ok) problems.push(...dex.error.split("; "));
  // The settings stop at their first problem; a missing DEX token is worth saying with any other
  // (its former name, CF_API_TOKEN, still counts).
  if (!dexApiTokenOf(env) && !problems.some((p) => p.startsWith("DEX_API_TOKEN"))) {
    problems.push("DEX_API_TOKEN: is not set");
  }

  let rules: number | null = null;
  let onDemand = 0;
  let needApproval: string[] = [];
  const syntax = typeof env.RULES === "string" ? jsonSyntaxError("RULES", env.RULES) : undefined;
  if (syntax) problems.push(syntax);
  else {
    const loaded = loadRules(env.RULES, SOURCE_NAMES);
    if (loaded.ok) {
      rules = loaded.rules.length;
      onDemand = loaded.rules.filter(allowsOnDemand).length;
      needApproval = loaded.rules.filter((rule) => rule.approval).map((rule) => rule.name);
    } else problems.push(loaded.error);
  }

  const sources = Object.fromEntries(SOURCE_NAMES.map((name) => [name, (SOURCE_SECRETS[name] ?? []).some(set)]));
  if (!Object.values(sources).some(Boolean))
    problems.push(`no source is enabled: set the secret of at least one (${Object.values(SOURCE_SECRETS).flat().join(", ")})`);

  const teamDomain = String(vars.ACCESS_TEAM_DOMAIN ?? "").trim();
  const audience = String(vars.ACCESS_AUD ?? "").trim();
  if (!!teamDomain !== !!audience) problems.push("ACCESS_TEAM_DOMAIN and ACCESS_AUD: set both, or neither");
  if (teamDomain && !isUrl(teamDomain)) problems.push("ACCESS_TEAM_DOMAIN: not a URL (https://<team>.cloudflareaccess.com)");
  const channels = readChannels(env);
  const slackSigned = set("SLACK_SIGNING_SECRET");
  if (needApproval.length > 0 && !slackSigned && !set("ADMIN_TOKEN") && !(teamDomain && audience)) {
    problems.push(
      `RULES: ${needApproval.join(", ")} ${needApproval.length > 1 ? "need" : "needs"} approval, but nobody can give it: set SLACK_SIGNING_SECRET (Slack's buttons), or ADMIN_TOKEN or Access (the console)`,
    );
  }
  const publicUrl = String(vars.RELAY_PUBLIC_URL ?? "").trim();
  if (publicUrl && !isUrl(publicUrl)) problems.push("RELAY_PUBLIC_URL: not a URL");

  return {
    ok: problems.length === 0,
    problems,
    rules,
    sources,
    operator: { admin_token: set("ADMIN_TOKEN"), access: !!(teamDomain && audience && isUrl(teamDomain)) },
    channels: Object.fromEntries(CHANNELS.map((channel) => [channel, !channels.off.some((o) => o.channel === channel)])),
    pagerduty_enrichment: set("PAGERDUTY_API_TOKEN"),
    on_demand: { rules: onDemand, pagerduty_action: set("PAGERDUTY_ACTION_SECRET") },
    slack_interactions: { signing_secret: slackSigned, team_pinned: set("SLACK_TEAM_ID") },
  };
}

/** `NAME: not valid JSON at line L, column C`, or undefined when `text` parses. */
export function jsonSyntaxError(name: string, text: string): string | undefined {
  const at = jsonErrorOffset(text);
  if (at === undefined) return undefined;
  if (at >= text.trimEnd().length) return `${name}: not valid JSON: it ends too early`;
  const before = text.slice(0, at).split("\n");
  return `${name}: not valid JSON: at line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

function isUrl(value: string): boolean {
  try {
    return ["https:", "http:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
