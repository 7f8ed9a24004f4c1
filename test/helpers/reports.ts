import { runInDurableObject } from "cloudflare:test";
import { ledger } from "./ledger";
import { signPagerDuty } from "./sign";
import { post } from "./relay";

/** Where the `reports` test project sends reports (vitest.config.ts). */
export const PAGERDUTY_API = "https://pagerduty.test";
export const SLACK_HOOK = "https://hooks.slack.test/services/T000/B000/test-hook";
export const RESULT_WEBHOOK = "https://results.test/dex-relay";
export const RESULT_WEBHOOK_KEY = "test-result-webhook-secret";

/**
 * Reports go out in the background of the ledger's alarm: waits (in real time, a few
 * milliseconds at a time) until none is in flight.
 */
export async function reportsSettled(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const sending = await runInDurableObject(
      ledger(),
      (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM reports WHERE state = 'sending'").one().n,
    );
    if (sending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("reports still in flight after 2 s");
}

/** A signed PagerDuty v3 `incident.triggered` for `incidentId`, as PagerDuty sends it now. */
export async function postIncident(incidentId: string, title: string) {
  const body = JSON.stringify({
    event: {
      id: `01EVENT${incidentId}`,
      event_type: "incident.triggered",
      resource_type: "incident",
      occurred_at: new Date().toISOString(),
      data: {
        id: incidentId,
        type: "incident",
        html_url: `https://acme.pagerduty.com/incidents/${incidentId}`,
        title,
        urgency: "high",
        priority: { summary: "P1" },
        service: { summary: "Corporate VPN" },
      },
    },
  });
  return post("/v1/alerts/pagerduty", {
    headers: { "content-type": "application/json", "x-pagerduty-signature": await signPagerDuty(body, "pd-secret-current") },
    body,
  });
}

/** The Standard Webhooks signature the result webhook must carry for these headers and body. */
export async function expectedSignature(id: string, timestamp: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(RESULT_WEBHOOK_KEY), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}
