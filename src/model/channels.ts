/** Where the relay reports what it started and how it ended: what a rule's `notify` names. */
export const CHANNELS = ["incident", "slack", "webhook"] as const;
export type Channel = (typeof CHANNELS)[number];
