import { NormalizedAlert } from "./alert";
import { versionedReader, versionOf } from "./versioned";
import * as z from "./zod";

/**
 * The version of the queue message this release writes. A message may wait on the queue
 * (retries, a dead letter replayed days later) across a deploy, so the consumer reads every
 * version written since release 0.1.0, and turns each into the current shape.
 */
export const DELIVERY_MESSAGE_VERSION = 2;

const deliveryFields = {
  delivery_id: z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  received_at: z.string(),
  alerts: z.array(NormalizedAlert),
};

/** What ingest puts on the queue: one verified delivery, already normalized. */
export const DeliveryMessage = z.object({
  version: z.literal(DELIVERY_MESSAGE_VERSION),
  ...deliveryFields,
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** Release 0.1.0's message: the same delivery, with no version; read as the current one. */
export const DeliveryMessageV1 = z.pipe(
  z.object(deliveryFields),
  z.transform((message): DeliveryMessage => ({ version: DELIVERY_MESSAGE_VERSION, ...message })),
);

/**
 * Reads a message of any version this release knows, as the current shape. A message that
 * names a version this release does not know (one written by a newer release, read during a
 * rollback) is refused whole rather than guessed at.
 */
export const readDeliveryMessage = versionedReader<DeliveryMessage>("message", {
  1: DeliveryMessageV1,
  [DELIVERY_MESSAGE_VERSION]: DeliveryMessage,
});

/** A message that names a version after this release's: a newer release queued it, and only such a release can read it. */
export function isNewerMessage(body: unknown): boolean {
  const version = versionOf(body);
  return typeof version === "number" && version > DELIVERY_MESSAGE_VERSION;
}
