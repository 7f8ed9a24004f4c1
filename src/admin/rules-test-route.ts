import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { badRequest, payloadTooLarge } from "../model/http-errors";
import { MAX_BODY_BYTES } from "../receive/alerts-route";
import { operatorAuth } from "./operator-auth";
import type { AppEnv } from "../config/middleware";
import { parseRuleTest, testRules } from "./rule-test";

/**
 * `POST /v1/rules/test` with `{ source, payload, rules? }`: the decisions the relay would
 * take for that payload, and for every rule that did not match, the condition that failed.
 * Nothing is sent, queued or written. Operators only.
 */
export const rulesTestRoute = new Hono<AppEnv>().post(
  "/v1/rules/test",
  operatorAuth(),
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw payloadTooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
    },
  }),
  async (c) => {
    const body = await c.req.json().catch(() => {
      throw badRequest('body is not valid JSON: send { "source", "payload" }');
    });
    return c.json(await testRules(c.env, c.var.config.relay(), parseRuleTest(body)));
  },
);
