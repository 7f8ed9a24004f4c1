import { readSecretList } from "../../config/secrets";
import { bearerToken } from "../../crypto/bearer";
import { secretsEqual } from "../../crypto/compare";
import { TARGET_FIELDS, type AlertTarget } from "../../model/alert";
import { badRequest, unauthorized } from "../../model/http-errors";
import * as z from "../../model/zod";
import { MAX_REF_LENGTH, MAX_TARGET_LENGTH, MAX_TITLE_LENGTH, MAX_VENDOR_ID_LENGTH } from "../limits";
import { lenient, parseJsonObject, parseOrRefuse } from "../toolkit";
import { PAGERDUTY_SIGNATURE_HEADER, verifyPagerDutySignature } from "./signature";

const SECRET_NAME = "PAGERDUTY_ACTION_SECRET";

/**
 * Throws a 401 unless the request is PagerDuty's: signed with `PAGERDUTY_ACTION_SECRET` as a v3
 * webhook is (`X-PagerDuty-Signature`; judged by the signature alone when it carries one), or
 * carrying that secret as `Authorization: Bearer <secret>`, the header a custom incident
 * action or a workflow's Web API integration is set to send. Several secrets, comma-separated,
 * during a rotation; none set refuses everything.
 */
export async function verifyPagerDutyAction(bytes: Uint8Array, headers: Headers, env: Env): Promise<void> {
  const secrets = readSecretList(env, SECRET_NAME);
  if (secrets.length === 0) throw unauthorized(`PagerDuty actions are disabled: ${SECRET_NAME} is not set`);
  const signature = headers.get(PAGERDUTY_SIGNATURE_HEADER);
  if (signature) return verifyPagerDutySignature(bytes, signature, secrets);
  const bearer = bearerToken(headers.get("authorization"));
  if (!bearer) throw unauthorized(`missing ${PAGERDUTY_SIGNATURE_HEADER} or Authorization: Bearer header`);
  // Every secret is compared, so the time taken does not say which one matched.
  const matches = await Promise.all(secrets.map((secret) => secretsEqual(bearer, secret)));
  if (!matches.includes(true)) throw unauthorized("invalid bearer token");
}

const Text = (max: number) => z.optional(z.string().check(z.trim(), z.maxLength(max)));
const Id = lenient(z.string().check(z.minLength(1), z.maxLength(MAX_VENDOR_ID_LENGTH)));
const Incident = z.object({ id: Id, title: lenient(z.string()), html_url: lenient(z.string().check(z.maxLength(MAX_REF_LENGTH))) });
/** A user or service reference; only its display name is read. */
const Agent = z.object({ type: lenient(z.string()), summary: lenient(z.string().check(z.maxLength(200))) });

/** The fields the relay reads of its own, in the query string or the body. */
const ASKED_FIELDS = ["rule", ...TARGET_FIELDS] as const;

/**
 * What a PagerDuty action sends. The relay's own fields (what a workflow's web request body
 * is written with, by field references), and the incident and user as PagerDuty's own
 * payloads give them: a v3 webhook (`event.data`, `event.agent`) or a custom incident action's
 * `messages[0]` (`incident`, `log_entries[0].agent`). What only adds context is lenient.
 */
const ActionBody = z.object({
  ...(Object.fromEntries(ASKED_FIELDS.map((field) => [field, Text(MAX_TARGET_LENGTH)])) as Record<(typeof ASKED_FIELDS)[number], ReturnType<typeof Text>>),
  incident_id: Text(MAX_VENDOR_ID_LENGTH),
  incident_title: Text(MAX_TITLE_LENGTH),
  incident_url: Text(MAX_REF_LENGTH),
  requested_by: Text(200),
  event: lenient(z.object({ id: Id, agent: lenient(z.nullable(Agent)), data: lenient(Incident) })),
  messages: lenient(z.array(z.object({ id: Id, incident: lenient(Incident), log_entries: lenient(z.array(z.object({ agent: lenient(Agent) }))) }))),
});

/** A PagerDuty action, read: what `requestCapture` needs, and the redelivery id. */
export interface PagerDutyAction {
  rule?: string;
  target?: AlertTarget;
  incident?: { id: string; title?: string; url?: string };
  requested_by: string;
  redelivery_id?: string;
}

/**
 * Reads an action's body (JSON, or empty) and query string. The rule and the target come from
 * either (a custom incident action's payload is PagerDuty's, so its URL carries them); the same
 * field given in both with two values is refused. Who asked is the body's `requested_by`, else
 * the PagerDuty user PagerDuty names, else "pagerduty action".
 */
export function readPagerDutyAction(body: string, query: Record<string, string>, webhookId: string | null): PagerDutyAction {
  const fields = parseOrRefuse(ActionBody, body.trim() ? parseJsonObject(body) : {});
  const asked: Partial<Record<(typeof ASKED_FIELDS)[number], string>> = {};
  for (const field of ASKED_FIELDS) {
    const inQuery = query[field]?.trim() || undefined;
    const inBody = fields[field] || undefined;
    if (inQuery && inBody && inQuery !== inBody) throw badRequest(`${field}: the query string and the body give two different values`);
    asked[field] = inQuery ?? inBody;
  }
  const { rule, ...targetFields } = asked;
  const message = fields.messages?.[0];
  const incident = fields.incident_id
    ? { id: fields.incident_id, title: fields.incident_title, html_url: fields.incident_url }
    : (fields.event?.data ?? message?.incident);
  const agent = fields.event?.agent ?? message?.log_entries?.[0]?.agent;
  const user = agent?.type?.startsWith("user") ? agent.summary?.trim() : undefined;
  const target = Object.fromEntries(Object.entries(targetFields).filter(([, value]) => value)) as AlertTarget;
  return {
    rule,
    ...(Object.keys(target).length > 0 ? { target } : {}),
    ...(incident?.id ? { incident: { id: incident.id, title: incident.title, url: incident.html_url } } : {}),
    requested_by: fields.requested_by || (user ? `${user} (PagerDuty)` : "pagerduty action"),
    redelivery_id: webhookId?.trim() || fields.event?.id || message?.id,
  };
}
