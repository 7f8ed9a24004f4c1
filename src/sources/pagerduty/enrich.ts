import { pagerDutyApiBase } from "../../config/urls";
import { readSecret } from "../../config/secrets";
import { logProblem } from "../../record/log";
import type { AlertTarget, NormalizedAlert } from "../../model/alert";
import * as z from "../../model/zod";
import { alertTarget } from "../toolkit";

/** The lookup runs in the queue consumer; past this, the alert goes on without it. */
export const ENRICH_TIMEOUT_MS = 5000;

const TOKEN_NAME = "PAGERDUTY_API_TOKEN";

/** Where the originating alert's `custom_details` land: `body.details`, or its CEF copy. */
const AlertBody = z.object({
  details: z.optional(z.unknown()),
  // PagerDuty derives this copy itself; one of an unexpected shape is ignored, not fatal.
  cef_details: z.catch(z.nullish(z.object({ details: z.optional(z.unknown()) })), undefined),
});

/** `GET /incidents/{id}/alerts`, only as far as the relay reads it. */
const IncidentAlerts = z.object({
  alerts: z.array(z.object({ body: z.nullish(AlertBody) })),
});

/**
 * Finds the device of a PagerDuty incident in the custom details of the alert that opened
 * it, which the webhook does not carry. Undefined when `PAGERDUTY_API_TOKEN` is unset: the
 * relay then relies on the incident title alone.
 *
 * The function it returns answers undefined for alerts of other sources, for incidents
 * whose alert names no device, and on any failure (which it logs once, without the token):
 * a missing detail never stops the alert, it only leaves the rules less to go on.
 * @see https://developer.pagerduty.com/api-reference/4bc42e7ac0c59-list-alerts-for-an-incident
 */
export function pagerDutyEnricher(env: Env): ((alert: NormalizedAlert) => Promise<AlertTarget | undefined>) | undefined {
  const token = readSecret(env, TOKEN_NAME);
  if (!token) return undefined;
  const apiBase = pagerDutyApiBase(env);
  return async function enrichFromPagerDuty(alert) {
    const incidentId = alert.source === "pagerduty" ? alert.refs?.incident_id : undefined;
    if (!incidentId) return undefined;
    const outcome = await fetchFirstAlert(apiBase, incidentId, token);
    if ("failed" in outcome) {
      logProblem("pagerduty-enrich-failed", { incident_id: incidentId, status: outcome.failed });
      return undefined;
    }
    return outcome.body ? targetOf(outcome.body) : undefined;
  };
}

type Outcome = { body: z.infer<typeof AlertBody> | null | undefined } | { failed: number | string };

/** The body of the incident's first alert, or why it could not be read (an HTTP status, or a word). */
async function fetchFirstAlert(apiBase: string, incidentId: string, token: string): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}/incidents/${encodeURIComponent(incidentId)}/alerts?limit=1`, {
      headers: { Authorization: `Token token=${token}`, Accept: "application/json" },
      signal: AbortSignal.timeout(ENRICH_TIMEOUT_MS),
    });
  } catch (error) {
    return { failed: error instanceof Error && error.name === "TimeoutError" ? "timeout" : "unreachable" };
  }
  if (!response.ok) {
    // Release the connection; the body of a refusal is not needed.
    await response.body?.cancel();
    return { failed: response.status };
  }
  try {
    const parsed = IncidentAlerts.safeParse(await response.json());
    if (!parsed.success) return { failed: "invalid-body" };
    return { body: parsed.data.alerts[0]?.body };
  } catch {
    return { failed: "invalid-body" };
  }
}

/** The device fields of the alert's details, strings only; `host` stands in for `hostname`. */
function targetOf(body: z.infer<typeof AlertBody>): AlertTarget | undefined {
  const details = [record(body.details), record(body.cef_details?.details)];
  const pick = (...keys: string[]) => {
    for (const source of details) {
      for (const key of keys) {
        const value = source[key];
        if (typeof value === "string" && value.trim()) return value.trim();
      }
    }
    return undefined;
  };
  const target = alertTarget({
    device_id: pick("device_id"),
    user_email: pick("user_email"),
    registration_id: pick("registration_id"),
    hostname: pick("hostname", "host"),
  });
  return Object.keys(target).length > 0 ? target : undefined;
}

/** `details` is whatever the sender put in `custom_details`: an object, or sometimes text. */
function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
