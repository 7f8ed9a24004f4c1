import { runInDurableObject } from "cloudflare:test";
import { ledger, runLedgerAlarm } from "./ledger";
import { signPagerDuty } from "./sign";
import { fetchWith, post, runConsumer } from "./relay";

/** Where the tests of reports send them. */
export const PAGERDUTY_API = "https://pagerduty.test";
export const SLACK_HOOK = "https://hooks.slack.test/services/T000/B000/test-hook";
export const RESULT_WEBHOOK = "https://results.test/dex-relay";
export const RESULT_WEBHOOK_KEY = "test-result-webhook-secret";

/**
 * Every report channel on: the copy of the test configuration (vitest.config.ts, where they
 * are off) that the tests of reports run the relay with. The relay hands its channels to the
 * command ledger with every call, so the ledger reports through these too.
 */
export const REPORTING: Partial<Record<keyof Env, unknown>> = {
  PAGERDUTY_API_TOKEN: "pd-rest-test-token",
  PAGERDUTY_API_BASE: PAGERDUTY_API,
  PAGERDUTY_FROM_EMAIL: "dex-relay@example.com",
  SLACK_WEBHOOK_URL: SLACK_HOOK,
  RESULT_WEBHOOK_URL: RESULT_WEBHOOK,
  // RESULT_WEBHOOK_KEY in base64.
  RESULT_WEBHOOK_SECRET: "whsec_dGVzdC1yZXN1bHQtd2ViaG9vay1zZWNyZXQ=",
  // Slack's Approve and Deny buttons, and the one workspace whose clicks count.
  SLACK_SIGNING_SECRET: "test-slack-signing-secret",
  SLACK_TEAM_ID: "T0TEST",
};

/** The queue consumer (./relay.ts) with every report channel on. */
export function runReportingConsumer(bodies: readonly unknown[], attempts = 1, overrides: Partial<Record<keyof Env, unknown>> = {}) {
  return runConsumer(bodies, attempts, { ...REPORTING, ...overrides });
}

/** A request to the relay with every report channel on (Slack's clicks among them). */
export function fetchReporting(url: string, init?: RequestInit): Promise<Response> {
  return fetchWith(REPORTING, url, init);
}

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

/** Runs the ledger's next alarm and waits for the reports it sends in the background. */
export async function alarmAndReports(): Promise<void> {
  await runLedgerAlarm();
  await reportsSettled();
}

/** Waits (real time, bounded) for what the relay does in the background after answering (Slack's `response_url`). */
export async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
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
