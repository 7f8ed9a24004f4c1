import * as z from "zod";
import { NormalizedAlert } from "./alert";

/** What ingest puts on the queue: one verified delivery, already normalized. */
export const DeliveryMessage = z.object({
  delivery_id: z.string().min(1),
  source: z.string().min(1),
  received_at: z.string(),
  alerts: z.array(NormalizedAlert),
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;
