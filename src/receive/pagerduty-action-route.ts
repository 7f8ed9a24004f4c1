import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../config/middleware";
import { badRequest, payloadTooLarge } from "../model/http-errors";
import { readPagerDutyAction, verifyPagerDutyAction } from "../sources/pagerduty/action";
import { MAX_BODY_BYTES } from "./alerts-route";
import { requestCapture } from "./request-capture";

/**
 * `POST /v1/actions/pagerduty?rule=&user_email=|hostname=|device_id=`: a responder asks for a
 * capture from a PagerDuty incident, with a custom incident action or an Incident Workflow's
 * web request step. Verified before anything is read; answered 202 with the delivery it
 * queued (the audit trail and the incident's notes tell the rest), 400 naming the field
 * that is wrong. Who asked is the PagerDuty user the request names.
 */
export const pagerDutyActionRoute = new Hono<AppEnv>().post(
  "/v1/actions/pagerduty",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw payloadTooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
    },
  }),
  async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    await verifyPagerDutyAction(bytes, c.req.raw.headers, c.env);
    const action = readPagerDutyAction(new TextDecoder().decode(bytes), c.req.query(), c.req.header("x-webhook-id") ?? null);
    if (!action.rule) throw badRequest("rule: name the rule to run, in the query string (?rule=) or the body");
    const queued = await requestCapture(c.env, c.var.config.relay(), {
      rule: action.rule,
      target: action.target,
      requested_by: action.requested_by,
      via: "pagerduty",
      incident: action.incident,
      idempotency_key: action.redelivery_id,
    });
    return c.json({ ...queued, ...(action.incident ? { incident_id: action.incident.id } : {}) }, 202);
  },
);
