import { badRequest, unauthorized } from "../../model/http-errors";
import { formatIssues } from "../../model/schema-issues";
import * as z from "../../model/zod";

/** A click on one of the relay's buttons, its signature checked: which button, who, and where to answer. */
export interface SlackClick {
  action_id: string;
  /** The button's `value`, as the relay wrote it into the message. */
  value: string;
  user: { id: string; name: string };
  /** Where the clicked message can be replaced (Slack's `response_url`). */
  response_url?: string;
}

const Id = z.string().check(z.minLength(1), z.maxLength(64));
const Name = z.optional(z.string().check(z.maxLength(256)));

/**
 * What the relay reads of Slack's `block_actions` payload; the rest (the message, the
 * channel, the state) it ignores.
 * @see https://api.slack.com/reference/interaction-payloads/block-actions
 */
const BlockActions = z.object({
  type: z.literal("block_actions"),
  team: z.nullish(z.object({ id: Id })),
  user: z.object({ id: Id, username: Name, name: Name, team_id: z.optional(Id) }),
  response_url: z.optional(z.string().check(z.maxLength(2048))),
  actions: z.array(z.object({ action_id: z.string().check(z.maxLength(255)), value: z.optional(z.string().check(z.maxLength(2000))) })).check(z.maxLength(25)),
});

/**
 * The clicks a verified interaction carries: Slack sends them form-encoded, the JSON in
 * `payload`. Other interactions (a modal, a shortcut) carry none. With `teamId` set, a click
 * from any other Slack workspace is refused.
 */
export function readClicks(body: Uint8Array, teamId: string | undefined): SlackClick[] {
  const payload = new URLSearchParams(new TextDecoder().decode(body)).get("payload");
  if (payload === null) throw badRequest("expected a form body with a payload field, as Slack sends interactions");
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw badRequest("payload: not valid JSON");
  }
  if ((json as { type?: unknown } | null)?.type !== "block_actions") return [];
  const parsed = BlockActions.safeParse(json);
  if (!parsed.success) throw badRequest(formatIssues(parsed.error, "payload"));
  const { team, user, response_url, actions } = parsed.data;
  const clickedIn = team?.id ?? user.team_id;
  if (teamId && clickedIn !== teamId) throw unauthorized(`click from Slack workspace ${clickedIn ?? "(none)"}, not SLACK_TEAM_ID`);
  const who = { id: user.id, name: user.username || user.name || user.id };
  return actions.map((action) => ({ action_id: action.action_id, value: action.value ?? "", user: who, ...(response_url ? { response_url } : {}) }));
}
