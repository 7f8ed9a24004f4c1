import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { CommandView } from "../admin/commands-route";
import type { HealthReport } from "../admin/health";
import type { QuotaStatus } from "../ledger/quota";
import type { DeliveryView } from "../admin/list-deliveries";
import type { RuleTestResult } from "../admin/rule-test";
import type { DeadLetterSummary } from "../record/dead-letters";
import { ON_DEMAND_SOURCE } from "../model/alert";
import { OUTCOMES } from "../model/decision";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface ConsoleFilters {
  source?: string;
  outcome?: string;
  status?: string;
  device?: string;
  since?: string;
  live?: string;
}

export interface ConsoleView {
  who: string;
  filters: ConsoleFilters;
  health: HealthReport;
  /** The account's DEX command quota as the ledger last read it; null when the relay cannot say. */
  quota: QuotaStatus | null;
  sources: readonly string[];
  deliveries: { items: DeliveryView[]; next: string | null } | { error: string };
  commands: { items: CommandView[]; next: string | null } | { error: string };
  /** Commands awaiting a person's approval. */
  approvals: { items: CommandView[]; next: null } | { error: string };
  deadLetters: { items: DeadLetterSummary[]; next: string | null };
  tester: { source: string; payload: string; rules: string; result?: RuleTestResult; error?: string };
  notice?: string;
  /** The rules that allow captures on demand, and the form asking for one as last sent. */
  onDemandRules?: readonly string[];
  capture?: CaptureForm;
}

/** The capture form's fields, kept to show again with its refusal. */
export type CaptureForm = Partial<Record<"rule" | "user_email" | "hostname" | "device_id" | "incident_id" | "error", string>>;

const COMMAND_STATUSES = [
  "awaiting-approval",
  "waiting",
  "retrying",
  "created",
  "failed",
  "capped",
  "denied",
  "expired",
  "PENDING_EXEC",
  "PENDING_UPLOAD",
  "SUCCESS",
  "FAILED",
];

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#1f2a44;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;gap:8px;justify-content:space-between}
header a{color:#fff}main{padding:8px 16px;max-width:1200px;margin:auto}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;margin:12px 0}
h1{font-size:18px;margin:0}h2{font-size:16px;margin:4px 0 8px}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-size:12px;color:#5b6270}code,.mono{font:12px ui-monospace,monospace}
form.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:end}
label{display:flex;flex-direction:column;font-size:12px;color:#5b6270}
input,select,textarea,button{font:inherit}textarea{width:100%;box-sizing:border-box;font:12px ui-monospace,monospace}
.ok{color:#0a7c2f}.bad{color:#b42318}.muted{color:#6b7280}
.pill{display:inline-block;padding:0 6px;border-radius:9px;background:#eef1f5;font-size:12px;white-space:nowrap}
.pill.created,.pill.SUCCESS,.pill.done{background:#dcf5e3}.pill.failed,.pill.FAILED,.pill.dead-lettered,.pill.denied,.pill.expired{background:#fde2e0}
.pill.retrying,.pill.waiting,.pill.in-progress,.pill.PENDING_EXEC,.pill.PENDING_UPLOAD,.pill.awaiting-approval{background:#fff3cd}
form.inline{display:inline}
.notice{background:#e7f0ff;border:1px solid #b6cdfa;padding:6px 10px;border-radius:6px}`;

/** The whole console: every value goes through `html`, which escapes it. */
export function consolePage(view: ConsoleView): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${view.filters.live ? html`<meta http-equiv="refresh" content="15">` : ""}
<title>dex-alert-relay console</title><style>${STYLE}</style></head>
<body><header><h1>dex-alert-relay console</h1><span class="muted">signed in: ${view.who}</span></header>
<main>
${view.notice ? html`<p class="notice" id="notice">${view.notice}</p>` : ""}
${healthSection(view.health, view.quota)}
${approvalsSection(view)}
${captureSection(view)}
${filtersSection(view)}
${deliveriesSection(view)}
${commandsSection(view)}
${testerSection(view)}
${deadLettersSection(view)}
</main></body></html>`;
}

function healthSection(health: HealthReport, quota: QuotaStatus | null): Html {
  const sources = Object.entries(health.sources);
  return html`<section id="health"><h2>Configuration ${health.ok ? html`<span class="ok">sound</span>` : html`<span class="bad">has problems</span>`}</h2>
${health.problems.length ? html`<ul class="bad">${health.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ""}
<p>${health.rules ?? "no"} rules loaded · sources: ${sources.map(([name, on]) => html`<span class="pill ${on ? "created" : ""}">${name} ${on ? "on" : "off"}</span> `)}
· operator access: ${health.operator.access ? "Cloudflare Access" : "no Access"}${health.operator.admin_token ? ", admin token" : ""}</p>
${quotaLine(quota)}</section>`;
}

function quotaLine(quota: QuotaStatus | null): Html {
  const spent = quota?.spent_until ? html` · <span class="bad">spent until ${quota.spent_until}: commands wait for the reset</span>` : "";
  if (!quota?.read_at) {
    return html`<p id="dex-quota">DEX command quota: <span class="muted">not read yet; the ledger reads it when it first sends a command</span>${spent}</p>`;
  }
  return html`<p id="dex-quota">DEX command quota: ${quota.used} used, at least ${quota.left_at_least} left (the API says quota ${quota.quota}) · resets ${quota.reset_time}
· <span class="muted">read ${quota.read_at}</span>${spent}</p>`;
}

/** Asks for a rule's command on a device now, as the operator signed in. */
function captureSection({ onDemandRules = [], capture = {} }: ConsoleView): Html {
  const field = (name: keyof CaptureForm, label: string, size: number) =>
    html`<label>${label}<input name="${name}" value="${capture[name] ?? ""}" size="${size}"></label>`;
  return html`<section id="capture"><h2>Capture on demand</h2>
${
  onDemandRules.length === 0
    ? html`<p class="muted">No rule allows it: add "operator" to a rule's match.source.</p>`
    : html`<form class="filters" method="post" action="/console/captures">
<label>Rule<select name="rule">${onDemandRules.map((r) => html`<option value="${r}" ${r === capture.rule ? "selected" : ""}>${r}</option>`)}</select></label>
${field("user_email", "User email", 24)}${field("hostname", "or host name", 16)}${field("device_id", "Device id (with the email)", 20)}${field("incident_id", "PagerDuty incident (optional)", 14)}
<button type="submit">Capture now</button></form>`
}
${capture.error ? html`<p class="bad" id="capture-error">${capture.error}</p>` : ""}</section>`;
}

function filtersSection({ filters, sources }: ConsoleView): Html {
  const option = (value: string, selected: string | undefined) =>
    html`<option value="${value}" ${value === selected ? "selected" : ""}>${value || "any"}</option>`;
  return html`<section id="filters"><form class="filters" method="get" action="/console">
<label>Source<select name="source">${["", ...sources, ON_DEMAND_SOURCE].map((s) => option(s, filters.source))}</select></label>
<label>Outcome<select name="outcome">${["", ...OUTCOMES].map((o) => option(o, filters.outcome))}</select></label>
<label>Command status<select name="status">${["", ...COMMAND_STATUSES].map((s) => option(s, filters.status))}</select></label>
<label>Device id or name<input name="device" value="${filters.device ?? ""}" size="22"></label>
<label>Since<input name="since" value="${filters.since ?? ""}" placeholder="24h, 7d or ISO time" size="14"></label>
<label>Auto-refresh<input type="checkbox" name="live" value="1" ${filters.live ? "checked" : ""}></label>
<button type="submit">Apply</button> <a href="/console">clear</a></form></section>`;
}

function deliveriesSection({ deliveries, filters }: ConsoleView): Html {
  if ("error" in deliveries) return html`<section id="deliveries"><h2>Deliveries</h2><p class="bad">${deliveries.error}</p></section>`;
  return html`<section id="deliveries"><h2>Deliveries</h2>
${deliveries.items.length === 0 ? html`<p class="muted">No delivery matches.</p>` : ""}
<div class="scroll"><table><thead><tr><th>Received</th><th>Source</th><th>State</th><th>Alert</th><th>Decisions</th></tr></thead><tbody>
${deliveries.items.map(
  (
    d,
  ) => html`<tr class="delivery"><td class="mono">${d.received_at}<br><span class="muted">${d.id}</span></td><td>${d.source}</td><td><span class="pill ${d.state}">${d.state}</span></td>
<td>${d.alerts.map((a) => html`<div>${a.title} <span class="muted">${a.severity ?? ""}${a.request ? ` asked for by ${a.request.requested_by} (${a.request.via})` : ""}</span></div>`)}</td>
<td>${d.decisions.map(
    (x) =>
      html`<div><span class="pill ${x.outcome}">${x.outcome}</span> ${x.rule ?? ""} ${x.device_id ? html`<a class="mono" href="${filterLink(filters, { device: x.device_id })}">${x.device_id.slice(0, 8)}</a>` : ""} <span class="muted">${x.reason}</span></div>`,
  )}</td></tr>`,
)}</tbody></table></div>
${deliveries.next ? html`<p><a href="${filterLink(filters, { cursor: deliveries.next })}">Older deliveries →</a></p>` : ""}</section>`;
}

function commandsSection({ commands, filters }: ConsoleView): Html {
  if ("error" in commands) return html`<section id="commands"><h2>Commands</h2><p class="bad">${commands.error}</p></section>`;
  return html`<section id="commands"><h2>Commands</h2>
${commands.items.length === 0 ? html`<p class="muted">No command matches.</p>` : ""}
<div class="scroll"><table><thead><tr><th>Taken</th><th>Device</th><th>Rule</th><th>Type</th><th>Relay</th><th>DEX status</th><th>Artifact</th></tr></thead><tbody>
${commands.items.map(
  (
    c,
  ) => html`<tr class="command"><td class="mono">${c.queued_at}</td><td><a href="${filterLink(filters, { device: c.device_id })}">${c.device_name ?? c.device_id}</a><br><span class="muted">${c.user_email ?? ""}</span></td>
<td>${c.rule}${c.requested_by ? html`<br><span class="muted">asked for by ${c.requested_by}</span>` : ""}</td><td>${c.type}</td><td><span class="pill ${c.outcome}" title="${c.reason}">${c.outcome}</span>${c.approval?.by ? html`<br><span class="muted approval">${c.approval.state} by ${c.approval.by} (${c.approval.via}) ${c.approval.at}</span>` : ""}</td>
<td>${c.status ? html`<span class="pill ${c.status}">${c.status}</span>` : html`<span class="muted">–</span>`}</td>
<td>${c.download_url ? html`<a href="${c.download_url}">${c.filename}</a>` : html`<span class="muted">–</span>`}</td></tr>`,
)}</tbody></table></div>
${commands.next ? html`<p><a href="${filterLink(filters, { ccursor: commands.next })}">Older commands →</a></p>` : ""}</section>`;
}

function approvalsSection({ approvals }: ConsoleView): Html {
  if ("error" in approvals) return html`<section id="approvals"><h2>Awaiting approval</h2><p class="bad">${approvals.error}</p></section>`;
  return html`<section id="approvals"><h2>Awaiting approval</h2>
${approvals.items.length === 0 ? html`<p class="muted">Nothing awaits approval.</p>` : ""}
<div class="scroll"><table><thead><tr><th>Taken</th><th>Device</th><th>Rule</th><th>Type</th><th>Expires</th><th></th></tr></thead><tbody>
${approvals.items.map(
  (
    c,
  ) => html`<tr class="approval" id="approval-${c.key}"><td class="mono">${c.queued_at}</td><td>${c.device_name ?? c.device_id}<br><span class="muted">${c.user_email ?? ""}</span></td>
<td>${c.rule}${c.approval?.approvers ? html`<br><span class="muted approvers">only ${c.approval.approvers.join(", ")} may decide</span>` : ""}</td><td>${c.type}</td><td class="mono">${c.approval?.expires_at}</td>
<td><form class="inline" method="post" action="/console/approvals/${c.key}/approve"><button type="submit">Approve</button></form>
<form class="inline" method="post" action="/console/approvals/${c.key}/deny"><button type="submit">Deny</button></form></td></tr>`,
)}</tbody></table></div></section>`;
}

function testerSection({ tester, sources }: ConsoleView): Html {
  return html`<section id="rule-tester"><h2>Rule tester</h2>
<form method="post" action="/console/rules/test">
<label>Source<select name="source">${sources.map((s) => html`<option value="${s}" ${s === tester.source ? "selected" : ""}>${s}</option>`)}</select></label>
<label>Payload, as the source sends it (JSON; a form body for Zapier)<textarea name="payload" rows="6" required>${tester.payload}</textarea></label>
<label>Rules to try instead of RULES (optional, a JSON array)<textarea name="rules" rows="3">${tester.rules}</textarea></label>
<p><button type="submit">Test</button> <span class="muted">nothing is sent, queued or recorded</span></p></form>
${tester.error ? html`<p class="bad" id="tester-error">${tester.error}</p>` : ""}
${tester.result ? testResult(tester.result) : ""}</section>`;
}

function testResult(result: RuleTestResult): Html {
  if (result.ignored) return html`<p id="tester-result">Ignored: ${result.ignored}</p>`;
  return html`<div id="tester-result">${result.alerts.map(
    (
      alert,
      i,
    ) => html`<h3>Alert ${i + 1}: ${alert.title} <span class="muted">${alert.severity ?? "no severity"}${alert.firing ? "" : ", not firing"}</span></h3>
<div class="scroll"><table><thead><tr><th>Rule</th><th>Verdict</th></tr></thead><tbody>
${alert.rules.map(
  (r) =>
    html`<tr class="verdict"><td>${r.rule}</td><td>${r.matched ? html`<span class="ok">matches</span>` : html`<span class="bad">${r.failed!.condition}${r.failed!.label ? html` ${r.failed!.label}` : ""}</span>: expected ${r.failed!.expected}, got ${r.failed!.actual ?? "nothing"}`}</td></tr>`,
)}</tbody></table></div>
<ul>${result.decisions.filter((d) => d.alert === i).map((d) => html`<li><span class="pill ${d.outcome}">${d.outcome}</span> ${d.rule ?? ""} ${d.device_id ?? ""} <span class="muted">${d.reason}</span></li>`)}</ul>`,
  )}</div>`;
}

function deadLettersSection({ deadLetters }: ConsoleView): Html {
  return html`<section id="dead-letters"><h2>Dead letters</h2>
${deadLetters.items.length === 0 ? html`<p class="muted">None: nothing ran out of retries.</p>` : ""}
<div class="scroll"><table><thead><tr><th>Dead-lettered</th><th>Delivery</th><th>Why</th><th></th></tr></thead><tbody>
${deadLetters.items.map(
  (
    d,
  ) => html`<tr class="dead-letter"><td class="mono">${d.dead_lettered_at}</td><td>${d.source ?? "?"} · ${d.alerts} alert(s)<br><span class="muted mono">${d.delivery_id ?? "not a delivery"}</span></td>
<td>${d.reason}</td><td>${d.replayed_at ? html`<span class="muted">replayed ${d.replayed_at}</span><br>` : ""}
${d.delivery_id ? html`<form method="post" action="/console/dead-letters/${d.id}/replay"><button type="submit">Replay</button></form>` : ""}</td></tr>`,
)}</tbody></table></div></section>`;
}

/** The console's URL with these filters changed: views are shared by URL. */
function filterLink(filters: ConsoleFilters, changes: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...changes })) if (value) params.set(key, value);
  return `/console?${params}`;
}
