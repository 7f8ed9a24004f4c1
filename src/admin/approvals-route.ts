import { Hono } from "hono";
import type { AppEnv } from "../config/middleware";
import type { ApprovalDecision } from "../model/approval";
import { notFound } from "../model/http-errors";
import { operatorAuth, operatorPerson, sameOrigin } from "./operator-auth";
import { COMMAND_KEY, operatorLedger } from "./operator-query";

/**
 * `POST /v1/approvals/{key}/approve` and `/deny`: an operator decides a command awaiting
 * approval from a script (a chat bot, a runbook), as the console's buttons do; the key is
 * the one `GET /v1/commands?status=awaiting-approval` lists. `200` with the command when this
 * request decided it; `409` with why when it changed nothing (decided before, or expired);
 * `404` for a key the ledger holds no approval for. Operators only, from the relay's own
 * origin or a script.
 */
export const approvalsRoute = new Hono<AppEnv>()
  .use("/v1/approvals/*", operatorAuth())
  .post("/v1/approvals/:key/:decision{approve|deny}", sameOrigin(), async (c) => {
    const key = c.req.param("key");
    if (!COMMAND_KEY.test(key)) throw notFound("no such approval");
    const decision = c.req.param("decision") as ApprovalDecision;
    const answer = await operatorLedger(c.env, c.var.config).decideAsOperator(key, decision, operatorPerson(c.var.operator), c.var.config.ledger(), "api");
    if (answer.result === "unknown") throw notFound("no such approval: the relay holds none for this key, or no longer keeps it");
    if (answer.result === "not-allowed") {
      return c.json({ error: "only this rule's approvers may decide (a Slack user id or an Access email): nothing changed", ...answer }, 403);
    }
    if (answer.result === "already-decided" || answer.result === "expired") {
      const error = answer.result === "expired" ? "it had expired: nothing changed" : "it had already been decided: nothing changed";
      return c.json({ error, ...answer }, 409);
    }
    return c.json(answer);
  });
