/** The stand-in's own bindings (not the relay's Env): see wrangler.toml beside this file. */
export interface StandInEnv {
  /** Requests per rolling five minutes before the lockout; the API's 1,200 when unset. */
  STAND_IN_RATE_LIMIT?: string;
  /** Generated devices to enrol on top of the seed (./fleet.ts), e.g. "10000"; none when unset. */
  STAND_IN_FLEET?: string;
  /** The result webhook's signing secret, to check the relay's signatures (the relay's RESULT_WEBHOOK_SECRET). */
  STAND_IN_RESULT_WEBHOOK_SECRET?: string;
  /** The Slack app's signing secret the stand-in signs its clicks with (the relay's SLACK_SIGNING_SECRET). */
  STAND_IN_SLACK_SIGNING_SECRET?: string;
  /** The Slack workspace its clicks come from (the relay's SLACK_TEAM_ID). */
  STAND_IN_SLACK_TEAM?: string;
  /** Where clicks go: the relay, which answers them at /v1/slack/interactions. */
  STAND_IN_RELAY_URL?: string;
  /** The stand-in's own base URL, for the `response_url` of each click (on SLACK_WEBHOOK_URL's host, as the relay requires). */
  STAND_IN_URL?: string;
}
