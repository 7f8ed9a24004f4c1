import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { listDeadLetters, readDeadLetter, saveDeadLetter } from "../record/dead-letters";
import { logEvent, logProblem } from "../record/log";
import { notFound, unavailable } from "../model/http-errors";
import { operatorAuth, sameOrigin, type Operator, type OperatorEnv } from "./operator-auth";
import { PageQuery, validQuery } from "./operator-query";

/**
 * Sends a dead letter's delivery through the queue again, as it was first queued (same
 * delivery id): the command ledger answers every key it already holds, so a replay never
 * creates a command twice, however often it is done. Marks the dead letter replayed.
 */
export async function replayDeadLetter(env: Env, id: string, operator: Operator): Promise<{ delivery_id: string }> {
  const letter = await readDeadLetter(env.RELAY_KV, id);
  if (!letter) throw notFound("no such dead letter: dead letters are kept 14 days");
  if (!letter.message) throw new HTTPException(409, { message: "this dead letter is not a delivery; there is nothing to replay" });
  try {
    await env.ALERT_QUEUE.send(letter.message, { contentType: "json" });
  } catch (error) {
    logProblem("replay-failed", { dead_letter_id: id, error: error instanceof Error ? error.message : String(error) });
    throw unavailable("could not queue the delivery; retry later");
  }
  const by = operator.via === "access" ? (operator.email ?? "access") : "admin token";
  await saveDeadLetter(env.RELAY_KV, { ...letter, replays: [...letter.replays, { at: new Date().toISOString(), by }] });
  logEvent("dead-letter-replayed", { dead_letter_id: id, delivery_id: letter.message.delivery_id, by: operator.via });
  return { delivery_id: letter.message.delivery_id };
}

/**
 * `GET /v1/dead-letters`: deliveries that ran out of attempts, newest first, with why.
 * `GET /v1/dead-letters/{id}`: one, with its delivery. `POST /v1/dead-letters/{id}/replay`:
 * queue it again. Operators only; a replay must come from the relay's own origin (or a script).
 */
export const deadLettersRoute = new Hono<OperatorEnv>()
  // `/v1/dead-letters/*` covers `/v1/dead-letters` too.
  .use("/v1/dead-letters/*", operatorAuth())
  .get("/v1/dead-letters", validQuery(PageQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    return c.json(await listDeadLetters(c.env.RELAY_KV, { cursor, limit }));
  })
  .get("/v1/dead-letters/:id", async (c) => {
    const letter = await readDeadLetter(c.env.RELAY_KV, c.req.param("id"));
    if (!letter) throw notFound("no such dead letter: dead letters are kept 14 days");
    return c.json(letter);
  })
  .post("/v1/dead-letters/:id/replay", sameOrigin(), async (c) => {
    const replayed = await replayDeadLetter(c.env, c.req.param("id"), c.var.operator);
    return c.json({ status: "queued", dead_letter_id: c.req.param("id"), ...replayed }, 202);
  });
