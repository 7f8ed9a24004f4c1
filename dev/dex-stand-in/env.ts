/** The stand-in's own bindings (not the relay's Env): see wrangler.toml beside this file. */
export interface StandInEnv {
  /** Requests per rolling five minutes before the lockout; the API's 1,200 when unset. */
  STAND_IN_RATE_LIMIT?: string;
  /** Generated devices to enrol on top of the seed (./fleet.ts), e.g. "10000"; none when unset. */
  STAND_IN_FLEET?: string;
  /** The result webhook's signing secret, to check the relay's signatures (the relay's RESULT_WEBHOOK_SECRET). */
  STAND_IN_RESULT_WEBHOOK_SECRET?: string;
}
