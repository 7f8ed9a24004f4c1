import type { ApprovalAnswer, ApprovalDecision } from "../../model/approval";
import { approversText, slackUpdate } from "../../report/approvals";
import { operatorLedger } from "../operator-query";
import type { SlackActionHandler } from "./actions";
import { respondInSlack } from "./respond";

/**
 * Approve or Deny on an approval's Slack message. The ledger decides at once (a quick call,
 * well inside Slack's three seconds) and, on Approve, sends the command on its alarm; the
 * message is replaced in the background with who decided and what happened. A click on
 * an approval that is decided, expired or unknown changes nothing and says so.
 */
export function decideApproval(decision: ApprovalDecision): SlackActionHandler {
  return async function decideApproval(click, { env, config, ctx }) {
    const person = { by: `@${click.user.name} (${click.user.id})`, identity: click.user.id };
    const answer = await operatorLedger(env, config).decideFromSlack(click.value, decision, person, config.ledger());
    ctx.waitUntil(respondInSlack(env, click.response_url, messageFor(answer)));
  };
}

function messageFor(answer: ApprovalAnswer): object {
  switch (answer.result) {
    case "unknown":
      return { response_type: "ephemeral", replace_original: false, text: "The relay does not know this approval (or no longer keeps it): nothing changed." };
    case "approved":
    case "denied":
      return slackUpdate(answer.command);
    case "already-decided":
      return slackUpdate(answer.command, "It was already decided: your click changed nothing.");
    case "expired":
      return slackUpdate(answer.command, "It had expired: your click changed nothing.");
    case "not-allowed":
      return {
        response_type: "ephemeral",
        replace_original: false,
        text: `Only this rule's approvers may decide (${approversText(answer.command.approval.approvers ?? [])}): your click changed nothing.`,
      };
  }
}
