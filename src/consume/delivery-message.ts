import * as z from "zod";
import { SEVERITIES } from "../sources/alert";

/** What ingest puts on the queue: one verified delivery, already normalized. */
export const DeliveryMessageSchema = z.object({
  delivery_id: z.string().min(1),
  source: z.string().min(1),
  received_at: z.string(),
  alerts: z.array(
    z.object({
      source: z.string(),
      episode: z.string().min(1),
      title: z.string(),
      severity: z.enum(SEVERITIES).optional(),
      firing: z.boolean(),
      status: z.string(),
      labels: z.record(z.string(), z.string()),
      target: z.object({
        device_id: z.string().optional(),
        user_email: z.string().optional(),
        registration_id: z.string().optional(),
        hostname: z.string().optional(),
      }),
      refs: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

export type DeliveryMessage = z.infer<typeof DeliveryMessageSchema>;
