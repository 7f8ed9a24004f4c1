import { Hono } from "hono";
import type { StandInEnv } from "./env";
import { createSlack } from "./slack";

/** What a receiver got: enough to see the relay's report, and whether it was signed right. */
export interface ReceivedReport {
  channel: "pagerduty-note" | "slack" | "result-webhook";
  received_at: string;
  /** The incident a note was written on. */
  incident_id?: string;
  body: unknown;
  /** Result webhook only: whether the Standard Webhooks signature matched the local secret. */
  signature_valid?: boolean;
  webhook_id?: string;
  /** Slack only (./slack.ts): the message's id on the stand-in's Slack page, its buttons' clicks, and the relay's updates through `response_url`. */
  message_id?: string;
  clicks?: Array<{ at: string; action_id: string; user: string; relay_status: number }>;
  updates?: Array<{ received_at: string; body: unknown }>;
}

/**
 * Local stand-ins for where the relay reports back: PagerDuty's REST API (incident notes,
 * and the incident alerts that enrichment reads), Slack (./slack.ts) and a result webhook.
 * Each keeps what it received, newest first, for `GET /`.
 */
export function createReceivers(received: ReceivedReport[], now: () => Date) {
  const app = new Hono<{ Bindings: StandInEnv }>();
  const keep = (report: Omit<ReceivedReport, "received_at">) => received.unshift({ ...report, received_at: now().toISOString() });

  app.post("/pagerduty/incidents/:id/notes", async (c) => {
    // PagerDuty refuses a note without a REST key and a From address: so does the stand-in.
    if (!/^Token token=\S+$/.test(c.req.header("authorization") ?? "")) return c.json({ error: { message: "Unauthorized", code: 2006 } }, 401);
    if (!c.req.header("from")) return c.json({ error: { message: "Requester User Not Found", code: 2100 } }, 400);
    const body = await c.req.json<{ note?: { content?: string } }>().catch(() => undefined);
    if (!body?.note?.content) return c.json({ error: { message: "Invalid Input Provided", code: 2001 } }, 400);
    keep({ channel: "pagerduty-note", incident_id: c.req.param("id"), body });
    return c.json({ note: { id: `PN${crypto.randomUUID().slice(0, 6).toUpperCase()}`, content: body.note.content, created_at: now().toISOString() } }, 201);
  });

  // Enrichment reads the incident's first alert; the stand-in's incidents carry no details.
  app.get("/pagerduty/incidents/:id/alerts", (c) => c.json({ alerts: [], limit: 1, offset: 0, more: false }));

  app.route("/", createSlack(received, now));

  app.post("/result-webhook", async (c) => {
    const text = await c.req.text();
    const id = c.req.header("webhook-id") ?? "";
    const valid = await signatureValid(
      c.env?.STAND_IN_RESULT_WEBHOOK_SECRET,
      id,
      c.req.header("webhook-timestamp") ?? "",
      text,
      c.req.header("webhook-signature") ?? "",
    );
    keep({ channel: "result-webhook", webhook_id: id, signature_valid: valid, body: JSON.parse(text) });
    return c.body(null, 204);
  });

  return app;
}

async function signatureValid(secret: string | undefined, id: string, timestamp: string, body: string, header: string): Promise<boolean> {
  const encoded = /^whsec_(.+)$/.exec(secret ?? "")?.[1];
  if (!encoded) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  const expected = `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
  return header.split(" ").includes(expected);
}
