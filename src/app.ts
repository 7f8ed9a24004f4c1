import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { logProblem } from "./record/log";
import { approvalsRoute } from "./admin/approvals-route";
import { capturesRoute } from "./admin/captures-route";
import { commandsRoute } from "./admin/commands-route";
import { deadLettersRoute } from "./admin/dead-letters-route";
import { deliveriesRoute } from "./admin/deliveries-route";
import { downloadRoute } from "./admin/download-route";
import { healthRoute } from "./admin/health-route";
import { rulesTestRoute } from "./admin/rules-test-route";
import { slackInteractionsRoute } from "./admin/slack/interactions-route";
import { relayConfig, type AppEnv } from "./config/middleware";
import { UNAUTHORIZED } from "./model/http-errors";
import { consoleRoute } from "./console/console-route";
import { dryRun } from "./consume/dry-run";
import { alertsRoute } from "./receive/alerts-route";
import { pagerDutyActionRoute } from "./receive/pagerduty-action-route";
import { SOURCE_NAMES } from "./sources/registry";
import { CounterBatch } from "./record/counter-batch";
import { countInLedger } from "./ledger/count-in-ledger";
import { metricsRoute } from "./admin/metrics-route";

/** Ingest's counts, gathered in this isolate and written to the command ledger in batches. */
export const ingestCounts = new CounterBatch(countInLedger);

/**
 * The HTTP face of the relay. Every error becomes `{ "error": "what to check" }`, except an
 * authentication refusal: every 401 says only `unauthorized`, so that a caller without
 * credentials learns nothing (not even which sources are enabled); the reason is logged.
 */
export const app = new Hono<AppEnv>()
  .use(relayConfig({ sources: SOURCE_NAMES }))
  .route("/", alertsRoute(dryRun, ingestCounts))
  .route("/", pagerDutyActionRoute)
  .route("/", capturesRoute)
  .route("/", deliveriesRoute)
  .route("/", downloadRoute)
  .route("/", commandsRoute)
  .route("/", approvalsRoute)
  .route("/", deadLettersRoute)
  .route("/", rulesTestRoute)
  .route("/", slackInteractionsRoute)
  .route("/", healthRoute)
  .route("/", metricsRoute)
  .route("/", consoleRoute)
  .get("/", (c) => c.json({ service: "dex-alert-relay", alerts: "POST /v1/alerts/{source}", console: "/console", health: "/healthz" }))
  .notFound((c) => c.json({ error: "not found" }, 404))
  .onError((error, c) => {
    if (error instanceof HTTPException && error.status === 401) {
      logProblem("unauthorized", { path: c.req.path, reason: error.message });
      return c.json({ error: UNAUTHORIZED }, 401);
    }
    if (error instanceof HTTPException) return error.res ?? c.json({ error: error.message }, error.status);
    logProblem("unhandled-error", { path: c.req.path, error: error.message });
    return c.json({ error: "internal error; retry later" }, 500);
  });
