import { NormalizedAlert } from "./alert";
import { versionedReader, versionOf, type Read } from "./versioned";
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

/**
 * What ingest puts on the queue: one verified delivery, already normalized. The consumer
 * queues it again, with `pending`, when device lookups of some of its alerts had to wait
 * for the DEX API budget.
 */
export const DeliveryMessage = z
  .object({
    version: z.union([z.literal(DELIVERY_MESSAGE_VERSION), z.literal(REQUEST_MESSAGE_VERSION)]),
    ...deliveryFields,
    /**
     * A continuation: the alerts (by index) still to plan; the others are decided and in the
     * delivery's record. Absent: every alert. Optional, so a release that does not know it
     * reads the message as the whole delivery, which the command ledger makes safe.
     */
    pending: z.optional(z.array(z.number().check(z.int(), z.nonnegative())).check(z.minLength(1))),
  })
  .check(
    z.refine((message) => !message.pending || message.pending.every((index) => index < message.alerts.length), {
      error: "names an alert the delivery does not have",
      path: ["pending"],
    }),
  );
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** Release 0.1.0's message: the same delivery, with no version; read as the current one. */
export const DeliveryMessageV1 = z.pipe(
  z.object(deliveryFields),
  z.transform((message): DeliveryMessage => ({ version: DELIVERY_MESSAGE_VERSION, ...message })),
);

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
const readAnyVersion = versionedReader<DeliveryMessage>("message", {
  1: DeliveryMessageV1,
  [DELIVERY_MESSAGE_VERSION]: DeliveryMessage,
  [REQUEST_MESSAGE_VERSION]: DeliveryMessage,
});

export function readDeliveryMessage(body: unknown): Read<DeliveryMessage> {
  const read = readAnyVersion(body);
  if (!read.success) return read;
  const version = messageVersionOf(read.data.alerts);
  if (version === REQUEST_MESSAGE_VERSION && read.data.version !== REQUEST_MESSAGE_VERSION) {
    return { success: false, error: `a version ${String(versionOf(body))} message carries no capture request` };
  }
  return { success: true, data: { ...read.data, version } };
}

/** A message that names a version after this release's: a newer release queued it, and only such a release can read it. */
export function isNewerMessage(body: unknown): boolean {
  const version = versionOf(body);
  return typeof version === "number" && version > REQUEST_MESSAGE_VERSION;
}
