import { NormalizedAlert } from "./alert";
import { formatIssues } from "./schema-issues";
import * as z from "./zod";

/**
 * The version of the queue message this release writes for a delivery of alerts. A message
 * may wait on the queue (retries, a dead letter replayed days later) across a deploy, so the
 * consumer reads every version written since release 0.1.0, and turns each into the current
 * shape.
 */
export const DELIVERY_MESSAGE_VERSION = 2;
/**
 * The version of a message that carries a capture on demand (an alert with `request`). A
 * release that reads only version 2 would take it for an ordinary alert and match every rule
 * against it, so it must refuse it instead: only these messages carry the newer version, and
 * a rollback holds back nothing else.
 */
export const REQUEST_MESSAGE_VERSION = 3;

const deliveryFields = {
  delivery_id: z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  received_at: z.string(),
  alerts: z.array(NormalizedAlert),
};

/** What ingest puts on the queue: one verified delivery, already normalized. */
export const DeliveryMessage = z.object({
  version: z.union([z.literal(DELIVERY_MESSAGE_VERSION), z.literal(REQUEST_MESSAGE_VERSION)]),
  ...deliveryFields,
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** Release 0.1.0's message: the same delivery, with no version. */
const DeliveryMessageV1 = z.object(deliveryFields);

/** The version a message with these alerts is written with. */
export function messageVersionOf(alerts: readonly NormalizedAlert[]): DeliveryMessage["version"] {
  return alerts.some((alert) => alert.request) ? REQUEST_MESSAGE_VERSION : DELIVERY_MESSAGE_VERSION;
}

/**
 * Reads a message of any version this release knows, as the current shape. A message that
 * names a version this release does not know (one written by a newer release, read during a
 * rollback) is refused whole rather than guessed at, and so is a request under an older
 * version than requests are written with.
 */
export function readDeliveryMessage(body: unknown): { success: true; data: DeliveryMessage } | { success: false; error: string } {
  const version = typeof body === "object" && body !== null && "version" in body ? (body as { version: unknown }).version : 1;
  let parsed;
  if (version === DELIVERY_MESSAGE_VERSION || version === REQUEST_MESSAGE_VERSION) parsed = DeliveryMessage.safeParse(body);
  else if (version === 1) parsed = DeliveryMessageV1.safeParse(body);
  else return { success: false, error: `message version ${String(version)} is not one this release reads` };
  if (!parsed.success) return { success: false, error: formatIssues(parsed.error) };
  const data = { ...parsed.data, version: messageVersionOf(parsed.data.alerts) };
  if (data.version === REQUEST_MESSAGE_VERSION && version !== REQUEST_MESSAGE_VERSION) {
    return { success: false, error: `a version ${String(version)} message carries no capture request` };
  }
  return { success: true, data };
}
