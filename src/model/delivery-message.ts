import { NormalizedAlert } from "./alert";
import * as z from "./zod";

/** What ingest puts on the queue: one verified delivery, already normalized. */
export const DeliveryMessage = z.object({
  delivery_id: z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  received_at: z.string(),
  alerts: z.array(NormalizedAlert),
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;
