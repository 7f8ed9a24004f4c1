import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { CommandsQuery, commandsPage } from "../admin/commands-route";
import { replayDeadLetter } from "../admin/dead-letters-route";
import { DeliveriesQuery, deliveriesPage } from "../admin/deliveries-route";
import { checkHealth } from "../admin/health";
import { operatorAuth, operatorName, operatorPerson, sameOrigin } from "../admin/operator-auth";
import type { AppEnv, RequestConfig } from "../config/middleware";
import type { Operator } from "../model/operator";
import { COMMAND_KEY, operatorLedger, parseQuery, publicBase } from "../admin/operator-query";
import { readQuotaStatus } from "../admin/quota-status";
import { notFound } from "../model/http-errors";
import { parseRuleTest, testRules } from "../admin/rule-test";
import { allowsOnDemand } from "../config/load-rules";
import { ON_DEMAND_SOURCE } from "../model/alert";
import { requestCapture } from "../receive/request-capture";
import { listDeadLetters } from "../record/dead-letters";
import { SOURCE_NAMES } from "../sources/registry";
import { consolePage, type CaptureForm, type ConsoleFilters, type ConsoleView } from "./page";

const DEAD_LETTERS_SHOWN = 20;
/** Approvals shown at once, the oldest first to expire among the newest. */
const APPROVALS_SHOWN = 50;
/** What the console says after an approval form, by the ledger's answer. */
const APPROVAL_NOTICES: Record<string, string> = {
  approved: "Approved: the relay sends the command now. The Commands list shows who approved it.",
  denied: "Denied: the command will never be sent.",
  "already-decided": "It had already been decided: nothing changed.",
  expired: "It had expired: nothing changed.",
  "not-allowed": "Only this rule's approvers may decide, signed in through Access with their email: nothing changed.",
  unknown: "No such approval: nothing changed.",
};
/** The tester starts with an alert the shipped rules act on. */
const EXAMPLE_PAYLOAD = JSON.stringify({ id: "TEST-1", title: "VPN packet loss above 8%", severity: "critical", user_email: "jane.doe@example.com" }, null, 1);

/**
 * `GET /console`: one server-rendered page for operators: recent deliveries and their
 * decisions, commands awaiting approval with Approve and Deny, commands with their DEX status
 * and download links, a rule tester, dead letters with a replay button, and the
 * configuration's health. Filters live in the URL. The forms
 * that post are checked to come from this origin.
 */
export const consoleRoute = new Hono<AppEnv>()
  // `/console/*` covers `/console` too. Only the forms that post check the origin: a link
  // to the console from an incident page must open it.
  .use("/console/*", operatorAuth())
  .get("/console", async (c) => {
    const query = c.req.query();
    const { replayed, requested } = query;
    const view = await baseView(c.env, c.var.config, c.var.operator, query, publicBase(c.env, c.req.url));
    const notice = replayed
      ? `Dead letter ${replayed} was queued again; its delivery shows the new decisions once the consumer has run.`
      : requested
        ? `Capture asked for as delivery ${requested}; it is listed below once the consumer has run.`
        : query.approval && Object.hasOwn(APPROVAL_NOTICES, query.approval)
          ? APPROVAL_NOTICES[query.approval]
          : undefined;
    return c.html(consolePage({ ...view, ...(notice ? { notice } : {}) }));
  })
  .post("/console/captures", sameOrigin(), async (c) => {
    const form = await c.req.parseBody();
    const capture: CaptureForm = {};
    for (const name of ["rule", "user_email", "hostname", "device_id", "incident_id"] as const) {
      if (typeof form[name] === "string" && form[name].trim()) capture[name] = form[name].trim();
    }
    const { rule = "", incident_id, ...target } = capture;
    try {
      const queued = await requestCapture(c.env, c.var.config.relay(), {
        rule,
        ...(Object.keys(target).length > 0 ? { target } : {}),
        requested_by: operatorName(c.var.operator),
        via: "console",
        ...(incident_id ? { incident: { id: incident_id } } : {}),
      });
      return c.redirect(`/console?source=${ON_DEMAND_SOURCE}&live=1&requested=${encodeURIComponent(queued.delivery_id)}#deliveries`, 303);
    } catch (error) {
      if (!(error instanceof HTTPException) || error.status !== 400) throw error;
      capture.error = error.message;
    }
    const view = await baseView(c.env, c.var.config, c.var.operator, {}, publicBase(c.env, c.req.url));
    return c.html(consolePage({ ...view, capture }));
  })
  .post("/console/rules/test", sameOrigin(), async (c) => {
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const tester: ConsoleView["tester"] = { source: text("source"), payload: text("payload"), rules: text("rules") };
    try {
      tester.result = await testRules(
        c.env,
        c.var.config.relay(),
        parseRuleTest({ source: tester.source, payload: jsonOrText(tester.payload), ...(tester.rules.trim() ? { rules: jsonOrText(tester.rules) } : {}) }),
      );
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
      tester.error = error.message;
    }
    const view = await baseView(c.env, c.var.config, c.var.operator, {}, publicBase(c.env, c.req.url));
    return c.html(consolePage({ ...view, tester }));
  })
  .post("/console/approvals/:key/:decision{approve|deny}", sameOrigin(), async (c) => {
    const key = c.req.param("key");
    if (!COMMAND_KEY.test(key)) throw notFound("no such approval");
    const answer = await operatorLedger(c.env, c.var.config).decideAsOperator(
      key,
      c.req.param("decision") as "approve" | "deny",
      operatorPerson(c.var.operator),
      c.var.config.ledger(),
    );
    return c.redirect(`/console?approval=${answer.result}#approvals`, 303);
  })
  .post("/console/dead-letters/:id/replay", sameOrigin(), async (c) => {
    const id = c.req.param("id");
    await replayDeadLetter(c.env, id, c.var.operator);
    return c.redirect(`/console?replayed=${encodeURIComponent(id)}#dead-letters`, 303);
  });

async function baseView(env: Env, config: RequestConfig, operator: Operator, query: Record<string, string>, base: string): Promise<ConsoleView> {
  const filters: ConsoleFilters = {};
  for (const key of ["source", "outcome", "status", "device", "since", "live"] as const) if (query[key]) filters[key] = query[key];
  const unreadableDeliveries: string[] = [];
  const unreadableDeadLetters: string[] = [];
  const [deliveries, commands, approvals, deadLetters, quota] = await Promise.all([
    attempt(async () => {
      const page = await deliveriesPage(
        env,
        config,
        parseQuery(DeliveriesQuery, { ...pick(filters, "source", "outcome", "device", "since"), ...(query.cursor ? { cursor: query.cursor } : {}) }),
      );
      unreadableDeliveries.push(...page.unreadable.map((d) => `delivery ${d.delivery_id}`));
      return { items: page.deliveries, next: page.cursor };
    }),
    attempt(async () => {
      const page = await commandsPage(
        env,
        config,
        parseQuery(CommandsQuery, { ...pick(filters, "status", "device", "since"), ...(query.ccursor ? { cursor: query.ccursor } : {}) }),
        base,
      );
      return { items: page.commands, next: page.cursor };
    }),
    attempt(async () => ({ items: (await commandsPage(env, config, { status: "awaiting-approval", limit: APPROVALS_SHOWN }, base)).commands, next: null })),
    listDeadLetters(env.RELAY_KV, { limit: DEAD_LETTERS_SHOWN }).then((page) => {
      unreadableDeadLetters.push(...page.unreadable.map((d) => `dead letter ${d.id}`));
      return { items: page.dead_letters, next: page.cursor };
    }),
    readQuotaStatus(env),
  ]);
  const unreadable = [...unreadableDeliveries, ...unreadableDeadLetters];
  return {
    // Records a newer release wrote (read after a rollback) are named rather than left out unsaid.
    ...(unreadable.length > 0
      ? {
          notice: `This release cannot read ${unreadable.join(", ")}; GET /v1/deliveries and /v1/dead-letters say why (most likely a newer release wrote them).`,
        }
      : {}),
    who: operatorName(operator),
    filters,
    health: checkHealth(env),
    quota,
    sources: SOURCE_NAMES,
    deliveries,
    commands,
    approvals,
    deadLetters,
    tester: { source: "zapier", payload: EXAMPLE_PAYLOAD, rules: "" },
    onDemandRules: onDemandRules(config),
  };
}

/** The rules the capture form offers; none while RULES is invalid (the health section says why). */
function onDemandRules(config: RequestConfig): string[] {
  try {
    return config
      .relay()
      .rules.filter(allowsOnDemand)
      .map((rule) => rule.name);
  } catch (error) {
    if (error instanceof HTTPException) return [];
    throw error;
  }
}

/** A section that cannot be shown says why; the rest of the page still works. */
async function attempt<T>(load: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof HTTPException) return { error: error.message };
    throw error;
  }
}

function pick(filters: ConsoleFilters, ...keys: Array<keyof ConsoleFilters>): Record<string, string> {
  return Object.fromEntries(keys.flatMap((key) => (filters[key] ? [[key, filters[key]!]] : [])));
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
