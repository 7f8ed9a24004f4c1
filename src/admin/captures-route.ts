import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { badRequest, payloadTooLarge } from "../model/http-errors";
import * as z from "../model/zod";
import type { AlertTarget } from "../model/alert";
import { IncidentId, requestCapture } from "../receive/request-capture";
import { parseOrRefuse } from "../sources/toolkit";
import { operatorAuth, operatorName, sameOrigin } from "./operator-auth";
import type { AppEnv } from "../config/middleware";

/** A capture request is a few fields; anything larger is not one. */
const MAX_CAPTURE_BODY_BYTES = 16 * 1024;

/** What `POST /v1/captures` takes: who asks is the operator who signed in, never the body. */
const CaptureBody = z.object({
  rule: z.string(),
  target: z.optional(z.unknown()),
  incident_id: z.optional(IncidentId),
});

/**
 * `POST /v1/captures` `{"rule", "target": {"user_email"} | {"hostname"} | {"device_id", "user_email"}, "incident_id"?}`:
 * asks for a rule's command on a device now, as the operator who signed in (their Access
 * email, or "admin token"). `Idempotency-Key` makes a retried request create nothing new.
 * 202 with the delivery queued; its decisions are at `GET /v1/deliveries/{id}`. Operators
 * only, from the relay's own origin or a script.
 */
export const capturesRoute = new Hono<AppEnv>().post(
  "/v1/captures",
  operatorAuth(),
  sameOrigin(),
  bodyLimit({
    maxSize: MAX_CAPTURE_BODY_BYTES,
    onError: () => {
      throw payloadTooLarge(`body is larger than ${MAX_CAPTURE_BODY_BYTES} bytes`);
    },
  }),
  async (c) => {
    const json = await c.req.json().catch(() => {
      throw badRequest('body is not valid JSON: send { "rule", "target" }');
    });
    const body = parseOrRefuse(CaptureBody, json);
    const key = c.req.header("idempotency-key");
    const queued = await requestCapture(c.env, c.var.config.relay(), {
      rule: body.rule,
      // Checked there, with the path of what is wrong.
      target: body.target as AlertTarget | undefined,
      requested_by: operatorName(c.var.operator),
      via: "api",
      ...(body.incident_id ? { incident: { id: body.incident_id } } : {}),
      ...(key ? { idempotency_key: key } : {}),
    });
    return c.json(queued, 202);
  },
);
