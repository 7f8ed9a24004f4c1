import { allowsOnDemand } from "../config/load-rules";
import { RuleTargetSchema } from "../config/rules-schema";
import type { RelayConfig } from "../config/settings";
import { ON_DEMAND_SOURCE, REQUEST_CHANNELS, type AlertTarget, type NormalizedAlert } from "../model/alert";
import { REQUEST_MESSAGE_VERSION, type DeliveryMessage } from "../model/delivery-message";
import { badRequest, unavailable } from "../model/http-errors";
import { formatIssues } from "../model/schema-issues";
import * as z from "../model/zod";
import { logEvent, logProblem } from "../record/log";
import { normalizeId } from "../sources/ids";
import { MAX_ID_LENGTH, MAX_REF_LENGTH } from "../sources/limits";
import { alertTarget, cutTitle } from "../sources/toolkit";

/** Longest name of who asked that is kept (an email, a PagerDuty user's name). */
const MAX_REQUESTER_LENGTH = 200;

/** A PagerDuty incident id as the REST API writes it (`Q1DEMO00000001`, `PGR0VU2`). */
export const IncidentId = z.string().check(z.regex(/^[A-Za-z0-9]{1,64}$/, "a PagerDuty incident id (letters and digits)"));

/**
 * A request for a capture on demand, whoever makes it: the console's form, `POST /v1/captures`,
 * a PagerDuty action, a Slack button. `target` may be left out when the incident's title
 * names the device in a way the rule's own `title` pattern finds (a named group), as an
 * alert's title would.
 */
export const CaptureAsk = z.object({
  rule: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  target: z.optional(RuleTargetSchema),
  requested_by: z.string().check(z.trim(), z.minLength(1), z.maxLength(MAX_REQUESTER_LENGTH)),
  via: z.enum(REQUEST_CHANNELS),
  /** The PagerDuty incident it is asked for in: the reports go there as a note. */
  incident: z.optional(
    z.object({
      id: IncidentId,
      title: z.optional(z.string()),
      url: z.optional(z.string().check(z.maxLength(MAX_REF_LENGTH))),
    }),
  ),
  /** The same on every retry of one request (a webhook id): a retry then creates nothing new. */
  idempotency_key: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(MAX_ID_LENGTH))),
});
/** Any target fields may be given: they are checked here, so every caller gets the same refusal. */
export type CaptureAsk = Omit<z.input<typeof CaptureAsk>, "target"> & { target?: AlertTarget };

export interface CaptureQueued {
  status: "queued";
  delivery_id: string;
  rule: string;
  requested_by: string;
}

/**
 * Asks for a rule's command on a device now: one delivery from the source `operator` with one
 * alert that names the rule, the target and who asked, queued like any delivery. The consumer
 * then treats it as any alert (the device looked up and vouched for by the DEX devices API, the
 * command ledger's cooldowns, cap and exactly-once), records it in the audit trail, and the
 * ledger reports it back, naming who asked. A 400 names the field that is wrong; nothing is
 * queued then.
 */
export async function requestCapture(
  env: Pick<Env, "ALERT_QUEUE">,
  config: Pick<RelayConfig, "rules">,
  input: CaptureAsk,
  now = new Date(),
): Promise<CaptureQueued> {
  const parsed = CaptureAsk.safeParse(input);
  if (!parsed.success) throw badRequest(formatIssues(parsed.error));
  const ask = parsed.data;
  const rule = config.rules.find((r) => r.name === ask.rule);
  if (!rule) throw badRequest("rule: no rule in RULES has this name");
  if (!allowsOnDemand(rule)) throw badRequest(`rule: ${rule.name} does not allow captures on demand (its match.source does not name "${ON_DEMAND_SOURCE}")`);
  const target = ask.target ?? titleTarget(rule.title, ask.incident?.title);
  // The incident's title names no device the rule's title pattern finds, when there is one.
  if (!target) throw badRequest("target: name the device by user_email, hostname, or device_id with user_email");

  const deliveryId = crypto.randomUUID();
  const { incident, requested_by, via } = ask;
  const alert: NormalizedAlert = {
    source: ON_DEMAND_SOURCE,
    episode: `${ON_DEMAND_SOURCE}:${ask.idempotency_key ? `${via}:${normalizeId(ask.idempotency_key)}` : deliveryId}`,
    title: cutTitle(incident?.title?.trim() || `${rule.name}, asked for by ${requested_by}`),
    firing: true,
    status: "requested",
    labels: { via },
    target,
    ...(incident ? { refs: { incident_id: incident.id, ...(incident.url ? { incident_url: incident.url } : {}) } } : {}),
    request: { rule: rule.name, requested_by, via },
  };
  const message: DeliveryMessage = {
    version: REQUEST_MESSAGE_VERSION,
    delivery_id: deliveryId,
    source: ON_DEMAND_SOURCE,
    received_at: now.toISOString(),
    alerts: [alert],
  };
  try {
    await env.ALERT_QUEUE.send(message, { contentType: "json" });
  } catch (error) {
    logProblem("enqueue-failed", { source: ON_DEMAND_SOURCE, error: error instanceof Error ? error.message : String(error) });
    throw unavailable("could not queue the request; retry later");
  }
  // Ids only: who asked is in the audit record, behind the operator's token.
  logEvent("capture-requested", { delivery_id: deliveryId, rule: rule.name, via });
  return { status: "queued", delivery_id: deliveryId, rule: rule.name, requested_by };
}

/** The target the named groups of the rule's title pattern find in the incident's title, if any. */
function titleTarget(pattern: RegExp | undefined, title: string | undefined): AlertTarget | undefined {
  const groups = title && pattern?.exec(cutTitle(title))?.groups;
  const target = groups ? alertTarget(groups) : {};
  return target.user_email || target.hostname ? target : undefined;
}
