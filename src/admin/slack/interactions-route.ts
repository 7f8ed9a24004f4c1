import type { AppEnv } from "../../config/middleware";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { readSecret, readSecretList } from "../../config/secrets";
import { payloadTooLarge } from "../../model/http-errors";
import { logEvent } from "../../record/log";
import { SLACK_ACTIONS } from "./actions";
import { readClicks } from "./payload";
import { verifySlackSignature } from "./signature";

/** Far more than a click's payload, which carries the clicked message. */
const MAX_INTERACTION_BYTES = 256 * 1024;

/**
 * `POST /v1/slack/interactions`: the Slack app's Interactivity Request URL. The signature is
 * checked on the raw body before anything is parsed (fail closed without
 * SLACK_SIGNING_SECRET); each click goes to its button's handler by `action_id`. Answered
 * 200 once handled, with nothing in the body: Slack only needs to hear back within three
 * seconds, and the message is updated through the click's `response_url`. A button the relay
 * does not know is answered 200 and does nothing.
 */
export const slackInteractionsRoute = new Hono<AppEnv>().post(
  "/v1/slack/interactions",
  bodyLimit({
    maxSize: MAX_INTERACTION_BYTES,
    onError: () => {
      throw payloadTooLarge(`body is larger than ${MAX_INTERACTION_BYTES} bytes`);
    },
  }),
  async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    await verifySlackSignature(body, c.req.raw.headers, readSecretList(c.env, "SLACK_SIGNING_SECRET"), new Date());
    for (const click of readClicks(body, readSecret(c.env, "SLACK_TEAM_ID"))) {
      const handle = SLACK_ACTIONS.get(click.action_id);
      if (handle) await handle(click, { env: c.env, config: c.var.config, ctx: c.executionCtx });
      else logEvent("slack-action-ignored", { action_id: click.action_id.slice(0, 64) });
    }
    return c.body(null, 200);
  },
);
