/** The action id of a finished command's "Capture again" button: Slack's interactions route dispatches on it. */
export const CAPTURE_AGAIN_ACTION = "capture.again";

/**
 * Slack's Block Kit `actions` under a finished command's report: the button carries the DEX
 * command id and nothing else, so a click can only ask to repeat a command the relay made
 * (src/admin/capture-again.ts), whatever a forger writes into it.
 */
export function captureAgainButton(commandId: string) {
  return {
    type: "actions",
    block_id: "capture-again",
    elements: [{ type: "button", action_id: CAPTURE_AGAIN_ACTION, text: { type: "plain_text", text: "Capture again" }, value: commandId }],
  };
}
