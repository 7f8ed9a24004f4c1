import type { AlertTarget, NormalizedAlert } from "../model/alert";

/** What a source receives: the body read once, before anything parses it. */
export interface RawDelivery {
  /** The body exactly as received: what signatures are computed over. */
  bytes: Uint8Array;
  /** The same body decoded as UTF-8: what parsers read. */
  body: string;
  headers: Headers;
  /** Media type without parameters, lower-cased (`application/json`). */
  contentType: string;
}

/** What a source makes of a verified delivery. */
export interface ReceivedAlerts {
  alerts: NormalizedAlert[];
  /**
   * Set when the delivery as a whole needs nothing done (a PagerDuty ping, an
   * acknowledgement): answered 2xx, nothing queued.
   */
  ignored?: string;
  /**
   * Set, with `ignored`, when an authentic delivery must not act because it is not what its
   * sender would send now (a replay of an old event): answered 2xx like any ignored
   * delivery, so the sender does not retry, and logged.
   */
  refused?: boolean;
  /** A sender-assigned id that is the same on every retry of this delivery (PagerDuty's X-Webhook-Id). */
  redeliveryKey?: string;
}

/**
 * One monitoring tool. Every source does the same three steps: verify the raw body,
 * parse it with a schema, map it to normalized alerts (or say why there is nothing to do).
 * `verify` must throw when the source's secret is unset: a source never accepts a request
 * because something is missing.
 */
export interface SourceAdapter {
  readonly name: string;
  /** Media types this source's senders use; anything else is answered 415. */
  readonly contentTypes: readonly string[];
  /** Throws an HTTPException(401) unless the request is authentic. */
  verify(delivery: RawDelivery, env: Env, now: Date): Promise<void>;
  /**
   * Throws an HTTPException(400) naming the field when the body is not what the source sends.
   * `now` is the relay's clock, for sources whose bodies carry a signed time.
   */
  receive(delivery: RawDelivery, now?: Date): Promise<ReceivedAlerts>;
  /**
   * Finds the target of one of this source's alerts that the delivery did not carry, from the
   * sender's own API (PagerDuty's REST API). The queue consumer asks only when a rule found no
   * target in the alert itself. Answers undefined when there is nothing to ask or the lookup
   * failed: a missing detail never stops the alert, it only leaves the rules less to go on.
   */
  enrich?(alert: NormalizedAlert, env: Env): Promise<AlertTarget | undefined>;
}
