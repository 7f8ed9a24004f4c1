import type { Decision } from "../model/decision";

/**
 * One JSON line per decision, for Workers Logs. Only identifiers, rule names and reason
 * codes: never a secret, a signature, a header or a payload, and nothing that names a person
 * or a machine (an email, a host name, an alert's title). The reason in words, which may,
 * stays in the delivery's audit record, behind the operator's token.
 */
export function logDecision(deliveryId: string, source: string, decision: Decision): void {
  console.log(
    JSON.stringify({
      event: "decision",
      delivery_id: deliveryId,
      source,
      alert: decision.alert,
      episode: decision.episode,
      outcome: decision.outcome,
      rule: decision.rule,
      type: decision.type,
      device_id: decision.device_id,
      command_id: decision.command_id,
    }),
  );
}

/** Something the relay did on its own (a retry, a status change), with ids and reasons only. */
export function logEvent(event: string, details: Record<string, string | number | undefined>): void {
  console.log(JSON.stringify({ event, ...details }));
}

/** A problem that stops a delivery or a batch, without the payload that caused it. */
export function logProblem(event: string, details: Record<string, string | number | undefined>): void {
  console.error(JSON.stringify({ event, ...details }));
}
