import { NormalizedAlert } from "./alert";
import { formatIssues } from "./schema-issues";
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

/**
 * What ingest puts on the queue: one verified delivery, already normalized. The consumer
 * queues it again, with `pending`, when device lookups of some of its alerts had to wait
 * for the DEX API budget.
 */
export const DeliveryMessage = z
  .object({
    version: z.literal(DELIVERY_MESSAGE_VERSION),
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

/** Release 0.1.0's message: the same delivery, with no version. */
const DeliveryMessageV1 = z.object(deliveryFields);

/**
 * Reads a message of any version this release knows, as the current shape. A message that
 * names a version this release does not know (one written by a newer release, read during a
 * rollback) is refused whole rather than guessed at.
 */
export function readDeliveryMessage(body: unknown): { success: true; data: DeliveryMessage } | { success: false; error: string } {
  const version = typeof body === "object" && body !== null && "version" in body ? (body as { version: unknown }).version : 1;
  if (version === DELIVERY_MESSAGE_VERSION) {
    const parsed = DeliveryMessage.safeParse(body);
    return parsed.success ? { success: true, data: parsed.data } : { success: false, error: formatIssues(parsed.error) };
  }
  if (version === 1) {
    const parsed = DeliveryMessageV1.safeParse(body);
    return parsed.success ? { success: true, data: { version: DELIVERY_MESSAGE_VERSION, ...parsed.data } } : { success: false, error: formatIssues(parsed.error) };
  }
  return { success: false, error: `message version ${String(version)} is not one this release reads` };
}
