import { HTTPException } from "hono/http-exception";
import { captureAgain } from "../capture-again";
import type { SlackActionHandler } from "./actions";
import { respondInSlack } from "./respond";

/**
 * "Capture again" under a finished command's report: the same command on the same device,
 * asked for by whoever clicked, as a capture on demand (queued at once, well inside Slack's
 * three seconds). The clicker alone is told what became of it; the channel hears when the
 * command starts, like any other. A command the relay does not hold, or one no rule may
 * repeat on demand, changes nothing and says why.
 */
export const captureAgainFromSlack: SlackActionHandler = async (click, { env, config, ctx }) => {
  let text: string;
  try {
    const queued = await captureAgain(env, config.relay(), {
      command_id: click.value,
      requested_by: `@${click.user.name} (${click.user.id}) in Slack`,
      via: "slack",
    });
    text = `Asked for under rule ${queued.rule} (delivery ${queued.delivery_id}): the channel hears when it starts, or the console says why not.`;
  } catch (error) {
    if (!(error instanceof HTTPException) || error.status >= 500) throw error;
    text = `Nothing was asked for: ${error.message}.`;
  }
  ctx.waitUntil(respondInSlack(env, click.response_url, { response_type: "ephemeral", replace_original: false, text }));
};
