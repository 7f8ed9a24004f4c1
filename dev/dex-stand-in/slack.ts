import { Hono } from "hono";
import { html } from "hono/html";
import type { StandInEnv } from "./env";
import type { ReceivedReport } from "./receivers";

/** Who clicks, unless the click names someone: the stand-in's one Slack user. */
const DEFAULT_USER = "local.oncall";
const DEFAULTS = { team: "T0LOCAL", secret: "local-slack-signing-secret", relay: "http://127.0.0.1:8787", self: "http://127.0.0.1:8788" };

interface Button {
  type: string;
  action_id: string;
  value?: string;
  text?: { text?: string };
}

/**
 * A local Slack: an incoming webhook that keeps each message, a page that shows them with
 * their buttons (`GET /slack`), and clicks on those buttons sent to the relay's
 * interactivity URL the way Slack sends them — a `block_actions` payload, form-encoded,
 * signed with the app's signing secret — with a `response_url` back here, where the
 * relay's update replaces the message.
 */
export function createSlack(received: ReceivedReport[], now: () => Date) {
  const app = new Hono<{ Bindings: StandInEnv }>();
  let next = 1;
  const find = (id: string) => received.find((r) => r.channel === "slack" && r.message_id === id);

  // The relay's update of a clicked message, through the click's response_url.
  app.post("/slack/responses/:id", async (c) => {
    const message = find(c.req.param("id"));
    const body = await c.req.json<Record<string, unknown>>().catch(() => undefined);
    if (!message || !body) return c.text("no_such_message", 404);
    message.updates = [...(message.updates ?? []), { received_at: now().toISOString(), body }];
    if (body.replace_original === true || body.replace_original === "true") message.body = body;
    return c.text("ok");
  });

  // A click on one of a message's buttons: `action_id` (form or JSON), and optionally `user`.
  app.post("/slack/messages/:id/click", async (c) => {
    const message = find(c.req.param("id"));
    const form = (c.req.header("content-type") ?? "").includes("json")
      ? await c.req.json<Record<string, string>>()
      : ((await c.req.parseBody()) as Record<string, string>);
    const button = message && buttonsOf(message.body).find((b) => b.action_id === form.action_id);
    if (!message || !button) return c.json({ error: "no such message, or it has no button with that action_id" }, 404);
    const env = { ...DEFAULTS, ...settingsOf(c.env) };
    const user = form.user || DEFAULT_USER;
    const payload = {
      type: "block_actions",
      team: { id: env.team, domain: "local" },
      user: { id: `U${user.replace(/\W/g, "").toUpperCase().slice(0, 10)}`, username: user, name: user, team_id: env.team },
      api_app_id: "A0LOCAL",
      container: { type: "message", message_ts: message.message_id, channel_id: "C0LOCAL", is_ephemeral: false },
      trigger_id: `${now().getTime()}.local`,
      channel: { id: "C0LOCAL", name: "dex-alerts" },
      message: message.body,
      response_url: `${env.self}/slack/responses/${message.message_id}`,
      actions: [{ ...button, block_id: "approval", action_ts: String(now().getTime() / 1000) }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const res = await fetch(`${env.relay}/v1/slack/interactions`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": await sign(env.secret, `v0:${timestamp}:${body}`),
      },
      body,
    });
    const click = { at: now().toISOString(), action_id: button.action_id, user, relay_status: res.status };
    await res.body?.cancel();
    message.clicks = [...(message.clicks ?? []), click];
    return (c.req.header("accept") ?? "").includes("text/html") ? c.redirect("/slack", 303) : c.json(click);
  });

  // An incoming webhook: Slack refuses a message without `text`.
  app.post("/slack/*", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (!body || typeof body !== "object" || !("text" in body)) return c.text("invalid_payload", 400);
    received.unshift({ channel: "slack", message_id: `m${next++}`, received_at: now().toISOString(), body });
    return c.text("ok");
  });

  app.get("/slack", (c) => c.html(page(received.filter((r) => r.channel === "slack"))));
  return app;
}

function settingsOf(env: StandInEnv | undefined) {
  return Object.fromEntries(
    Object.entries({
      team: env?.STAND_IN_SLACK_TEAM,
      secret: env?.STAND_IN_SLACK_SIGNING_SECRET,
      relay: env?.STAND_IN_RELAY_URL,
      self: env?.STAND_IN_URL,
    }).filter(([, v]) => v),
  ) as Partial<typeof DEFAULTS>;
}

function buttonsOf(body: unknown): Button[] {
  const blocks = (body as { blocks?: Array<{ type?: string; elements?: Button[] }> })?.blocks ?? [];
  return blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.type === "button");
}

async function sign(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
  return `v0=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function page(messages: ReceivedReport[]) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Slack stand-in</title>
<style>body{font:14px system-ui,sans-serif;margin:16px;max-width:900px}.msg{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:8px 0}
.muted{color:#666;font-size:12px}form{display:inline}pre{white-space:pre-wrap;margin:4px 0}</style></head>
<body><h1>#dex-alerts <span class="muted">(local Slack stand-in: what the relay posted, newest first)</span></h1>
${messages.length === 0 ? html`<p class="muted">No message yet.</p>` : ""}
${messages.map(
  (
    m,
  ) => html`<div class="msg" id="${m.message_id}"><div class="muted">${m.message_id} · ${m.received_at}${m.updates ? ` · updated ${m.updates.length}×` : ""}</div>
<pre>${(m.body as { text?: string }).text ?? ""}</pre>
${buttonsOf(m.body).map(
  (b) =>
    html`<form method="post" action="/slack/messages/${m.message_id}/click"><input type="hidden" name="action_id" value="${b.action_id}"><button type="submit">${b.text?.text ?? b.action_id}</button></form> `,
)}
${(m.clicks ?? []).map((k) => html`<div class="muted">${k.user} clicked ${k.action_id}: the relay answered ${k.relay_status}</div>`)}</div>`,
)}</body></html>`;
}
