import { Hono } from "hono";
import { listDeadLetters, readDeadLetter, saveDeadLetter, type DeadLetter } from "../record/dead-letters";
import { logEvent, logProblem } from "../record/log";
import { conflict, notFound, unavailable } from "../model/http-errors";
import type { AppEnv } from "../config/middleware";
import type { Operator } from "../model/operator";
import { operatorAuth, sameOrigin } from "./operator-auth";
import { PageQuery, validQuery } from "./operator-query";

/**
 * Sends a dead letter's delivery through the queue again, as it was first queued (same
 * delivery id; one an earlier release queued goes in this release's message version): the
 * command ledger answers every key it already holds, so a replay never creates a command
 * twice, however often it is done. Marks the dead letter replayed.
 */
export async function replayDeadLetter(env: Env, id: string, operator: Operator): Promise<{ delivery_id: string }> {
  const letter = await deadLetter(env, id);
  if (letter.newer_message !== undefined) throw conflict("this dead letter holds a message of a newer release: replay it once that release is deployed again");
  if (!letter.message) throw conflict("this dead letter is not a delivery; there is nothing to replay");
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

/** Dead letter `id` as this release reads it, whichever release kept it; 409 for one it cannot read. */
async function deadLetter(env: Env, id: string): Promise<DeadLetter> {
  const letter = await readDeadLetter(env.RELAY_KV, id);
  if (!letter) throw notFound("no such dead letter: dead letters are kept 14 days");
  if (!letter.success) throw conflict(`this release cannot read this dead letter: ${letter.error}`);
  return letter.data;
}

/**
 * `GET /v1/dead-letters`: deliveries that ran out of attempts, newest first, with why.
 * `GET /v1/dead-letters/{id}`: one, with its delivery. `POST /v1/dead-letters/{id}/replay`:
 * queue it again. Operators only; a replay must come from the relay's own origin (or a script).
 */
export const deadLettersRoute = new Hono<AppEnv>()
  // `/v1/dead-letters/*` covers `/v1/dead-letters` too.
  .use("/v1/dead-letters/*", operatorAuth())
  .get("/v1/dead-letters", validQuery(PageQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const { unreadable, ...page } = await listDeadLetters(c.env.RELAY_KV, { cursor, limit });
    // Dead letters a newer release kept: named, so that the page never hides them.
    return c.json({ ...page, ...(unreadable.length > 0 ? { unreadable } : {}) });
  })
  .get("/v1/dead-letters/:id", async (c) => {
    // A newer release's message is kept for that release to replay, not shown: this one cannot say what it holds.
    const { newer_message: _, ...letter } = await deadLetter(c.env, c.req.param("id"));
    return c.json(letter);
  })
  .post("/v1/dead-letters/:id/replay", sameOrigin(), async (c) => {
    const replayed = await replayDeadLetter(c.env, c.req.param("id"), c.var.operator);
    return c.json({ status: "queued", dead_letter_id: c.req.param("id"), ...replayed }, 202);
  });
