import * as z from "../model/zod";
import { loadRules, type CompiledRule } from "../config/load-rules";
import type { RelayConfig } from "../config/settings";
import { DELIVERY_MESSAGE_VERSION, type DeliveryMessage } from "../model/delivery-message";
import { explainRule, type FailedCondition } from "../match/explain-rule";
import type { Decision } from "../model/decision";
import { dryRun } from "../consume/dry-run";
import { badRequest } from "../model/http-errors";
import { formatIssues } from "../model/schema-issues";
import { SOURCE_NAMES, sourceNamed } from "../sources/registry";

/** `POST /v1/rules/test`: a payload as a source would send it, and optionally rules to try instead of `RULES`. */
export const RuleTestRequest = z.object({
  source: z.string().check(z.minLength(1)),
  /** A JSON payload, or the raw body (a form body for Zapier). */
  payload: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.string()]),
  rules: z.optional(z.unknown()),
});
export type RuleTestRequest = z.infer<typeof RuleTestRequest>;

export interface RuleVerdict {
  rule: string;
  matched: boolean;
  failed?: FailedCondition;
}

export interface RuleTestResult {
  source: string;
  /** Set when the source would answer "nothing to do" for this payload. */
  ignored?: string;
  alerts: Array<{ title: string; severity?: string; firing: boolean; labels: Record<string, string>; target: Record<string, string>; rules: RuleVerdict[] }>;
  decisions: Decision[];
}

/**
 * What the relay would do with a payload, and why: the source's own parser, then the dry
 * run's planning (rules, device lookups, the ledger's preview; nothing sent or written),
 * and for every rule whether it matched each alert or which condition failed first.
 * The sender's signature is not checked: the operator is.
 */
export async function testRules(env: Env, config: RelayConfig, request: RuleTestRequest): Promise<RuleTestResult> {
  const source = sourceNamed(request.source);
  if (!source) throw badRequest(`source: unknown; use one of: ${SOURCE_NAMES.join(", ")}`);
  const rules = request.rules === undefined ? config.rules : rulesToTry(request.rules);
  const body = typeof request.payload === "string" ? request.payload : JSON.stringify(request.payload);
  const form = source.contentTypes.find((type) => type !== "application/json");
  const contentType = typeof request.payload === "string" && form && !/^\s*[[{]/.test(body) ? form : "application/json";
  const bytes = new TextEncoder().encode(body);
  const received = await source.receive({ bytes, body, headers: new Headers(), contentType });
  if (received.alerts.length === 0) {
    return { source: source.name, ignored: received.ignored ?? "the payload carries no alerts", alerts: [], decisions: [] };
  }
  const message: DeliveryMessage = {
    version: DELIVERY_MESSAGE_VERSION,
    delivery_id: `rule-test-${crypto.randomUUID()}`,
    source: source.name,
    received_at: new Date().toISOString(),
    alerts: received.alerts,
  };
  const decisions = await dryRun(env, { ...config, rules }, message);
  return {
    source: source.name,
    alerts: received.alerts.map((alert) => ({
      title: alert.title,
      ...(alert.severity ? { severity: alert.severity } : {}),
      firing: alert.firing,
      labels: alert.labels,
      target: { ...alert.target },
      rules: rules.map((rule) => {
        const failed = explainRule(alert, rule);
        return failed ? { rule: rule.name, matched: false, failed } : { rule: rule.name, matched: true };
      }),
    })),
    decisions,
  };
}

/** Parses a request body as a rule test, with the path of what is wrong. */
export function parseRuleTest(value: unknown): RuleTestRequest {
  const parsed = RuleTestRequest.safeParse(value);
  if (!parsed.success) throw badRequest(formatIssues(parsed.error));
  return parsed.data;
}

function rulesToTry(raw: unknown): CompiledRule[] {
  const loaded = loadRules(raw, SOURCE_NAMES);
  if (!loaded.ok) throw badRequest(loaded.error);
  return loaded.rules;
}
