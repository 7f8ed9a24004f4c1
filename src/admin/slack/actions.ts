import type { RequestConfig } from "../../config/middleware";
import { APPROVE_ACTION, DENY_ACTION } from "../../report/approvals";
import { CAPTURE_AGAIN_ACTION } from "../../report/capture-again";
import { decideApproval } from "./approval-actions";
import { captureAgainFromSlack } from "./capture-again-action";
import type { SlackClick } from "./payload";

/**
 * What one kind of button does, by its `action_id`. It must answer within Slack's three
 * seconds: a quick ledger call, and anything slow (the message update) in `waitUntil`.
 */
export type SlackActionHandler = (click: SlackClick, on: SlackActionContext) => Promise<void>;

/** What a button's handler works with: the request's bindings, configuration and `waitUntil`. */
export interface SlackActionContext {
  env: Env;
  config: RequestConfig;
  ctx: Pick<ExecutionContext, "waitUntil">;
}

/** Every button the relay puts in Slack messages. A new kind of button joins here. */
export const SLACK_ACTIONS: ReadonlyMap<string, SlackActionHandler> = new Map([
  [APPROVE_ACTION, decideApproval("approve")],
  [DENY_ACTION, decideApproval("deny")],
  [CAPTURE_AGAIN_ACTION, captureAgainFromSlack],
]);
