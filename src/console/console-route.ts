import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { CommandsQuery, commandsPage } from "../admin/commands-route";
import { replayDeadLetter } from "../admin/dead-letters-route";
import { DeliveriesQuery, deliveriesPage } from "../admin/deliveries-route";
import { checkHealth } from "../admin/health";
import { operatorAuth, sameOrigin, type Operator, type OperatorEnv } from "../admin/operator-auth";
import { operatorConfig, parseQuery, publicBase } from "../admin/operator-query";
import { readQuotaStatus } from "../admin/quota-status";
import { parseRuleTest, testRules } from "../admin/rule-test";
import { listDeadLetters } from "../record/dead-letters";
import { SOURCE_NAMES } from "../sources/registry";
import { consolePage, type ConsoleFilters, type ConsoleView } from "./page";

const DEAD_LETTERS_SHOWN = 20;
/** The tester starts with an alert the shipped rules act on. */
const EXAMPLE_PAYLOAD = JSON.stringify({ id: "TEST-1", title: "VPN packet loss above 8%", severity: "critical", user_email: "jane.doe@example.com" }, null, 1);

/**
 * `GET /console`: one server-rendered page for operators: recent deliveries and their
 * decisions, commands with their DEX status and download links, a rule tester, dead letters
 * with a replay button, and the configuration's health. Filters live in the URL. The forms
 * that post are checked to come from this origin.
 */
export const consoleRoute = new Hono<OperatorEnv>()
  // `/console/*` covers `/console` too. Only the forms that post check the origin: a link
  // to the console from an incident page must open it.
  .use("/console/*", operatorAuth())
  .get("/console", async (c) => {
    const query = c.req.query();
    const replayed = query.replayed;
    const view = await baseView(c.env, c.var.operator, query, publicBase(c.env, c.req.url));
    return c.html(consolePage({ ...view, ...(replayed ? { notice: `Dead letter ${replayed} was queued again; its delivery shows the new decisions once the consumer has run.` } : {}) }));
  })
  .post("/console/rules/test", sameOrigin(), async (c) => {
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const tester: ConsoleView["tester"] = { source: text("source"), payload: text("payload"), rules: text("rules") };
    try {
      tester.result = await testRules(c.env, operatorConfig(c.env), parseRuleTest({ source: tester.source, payload: jsonOrText(tester.payload), ...(tester.rules.trim() ? { rules: jsonOrText(tester.rules) } : {}) }));
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
      tester.error = error.message;
    }
    const view = await baseView(c.env, c.var.operator, {}, publicBase(c.env, c.req.url));
    return c.html(consolePage({ ...view, tester }));
  })
  .post("/console/dead-letters/:id/replay", sameOrigin(), async (c) => {
    const id = c.req.param("id");
    await replayDeadLetter(c.env, id, c.var.operator);
    return c.redirect(`/console?replayed=${encodeURIComponent(id)}#dead-letters`, 303);
  });

async function baseView(env: Env, operator: Operator, query: Record<string, string>, base: string): Promise<ConsoleView> {
  const filters: ConsoleFilters = {};
  for (const key of ["source", "outcome", "status", "device", "since", "live"] as const) if (query[key]) filters[key] = query[key];
  const unreadableDeliveries: string[] = [];
  const unreadableDeadLetters: string[] = [];
  const [deliveries, commands, deadLetters, quota] = await Promise.all([
    attempt(async () => {
      const page = await deliveriesPage(env, parseQuery(DeliveriesQuery, { ...pick(filters, "source", "outcome", "device", "since"), ...(query.cursor ? { cursor: query.cursor } : {}) }));
      unreadableDeliveries.push(...page.unreadable.map((d) => `delivery ${d.delivery_id}`));
      return { items: page.deliveries, next: page.cursor };
    }),
    attempt(async () => {
      const page = await commandsPage(env, parseQuery(CommandsQuery, { ...pick(filters, "status", "device", "since"), ...(query.ccursor ? { cursor: query.ccursor } : {}) }), base);
      return { items: page.commands, next: page.cursor };
    }),
    listDeadLetters(env.RELAY_KV, { limit: DEAD_LETTERS_SHOWN }).then((page) => {
      unreadableDeadLetters.push(...page.unreadable.map((d) => `dead letter ${d.id}`));
      return { items: page.dead_letters, next: page.cursor };
    }),
    readQuotaStatus(env),
  ]);
  const unreadable = [...unreadableDeliveries, ...unreadableDeadLetters];
  return {
    // Records a newer release wrote (read after a rollback) are named rather than left out unsaid.
    ...(unreadable.length > 0 ? { notice: `This release cannot read ${unreadable.join(", ")}; GET /v1/deliveries and /v1/dead-letters say why (most likely a newer release wrote them).` } : {}),
    who: operator.via === "access" ? (operator.email ?? "Cloudflare Access") : "admin token",
    filters,
    health: checkHealth(env),
    quota,
    sources: SOURCE_NAMES,
    deliveries,
    commands,
    deadLetters,
    tester: { source: "zapier", payload: EXAMPLE_PAYLOAD, rules: "" },
  };
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
