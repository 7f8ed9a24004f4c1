import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { RelayConfig } from "../config/settings";
import type { Decision } from "../model/decision";
import { DELIVERY_MESSAGE_VERSION, type DeliveryMessage } from "../model/delivery-message";
import { logProblem } from "../record/log";
import { SOURCE_NAMES, sourceNamed } from "../sources/registry";
import { verifyOperator } from "./operator";
import { enqueueParts, fitsTheQueue, MAX_MESSAGE_BYTES, splitDelivery } from "./enqueue";
import { notFound, payloadTooLarge, unavailable, unsupportedMediaType } from "../model/http-errors";
import { firstDeliveryOf, rememberDelivery } from "./redeliveries";
import type { CounterBatch } from "../record/counter-batch";
import { countDeliveries, type IngestEnv } from "./delivery-counts";
import { limitSender } from "./sender-limit";

/** Larger than any alert a monitoring tool sends; anything bigger is refused unread. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * What the relay would do with a delivery, without doing it. The consumer's own pipeline
 * answers it (consume/dry-run.ts); it is handed in by the app, so that receiving never
 * depends on the stage after the queue.
 */
export type DryRun = (env: Env, config: RelayConfig, message: DeliveryMessage) => Promise<Decision[]>;

/**
 * `POST /v1/alerts/{source}`: read the body once, verify it, hold the sender to its rate,
 * normalize it, queue it, and answer 202 at once; the queue consumer does the rest. Nothing
 * is queued for a request that failed any check. Every answer is counted into `counts`.
 */
export const alertsRoute = (dryRun: DryRun, counts: CounterBatch) =>
  new Hono<IngestEnv>().post(
    "/v1/alerts/:source",
    countDeliveries(counts),
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw payloadTooLarge(`body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      const now = new Date();
      const source = sourceNamed(c.req.param("source"));
      if (!source) throw notFound(`unknown source; use one of: ${SOURCE_NAMES.join(", ")}`);
      const contentType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (!source.contentTypes.includes(contentType)) {
        throw unsupportedMediaType(`Content-Type must be ${source.contentTypes.join(" or ")}`);
      }

      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const delivery = { bytes, body: new TextDecoder().decode(bytes), headers: c.req.raw.headers, contentType };
      await source.verify(delivery, c.env, now);
      await limitSender(c.env, source.name, delivery.headers);
      // What a dry run shows (devices, emails, who was online, earlier commands) is for
      // operators: a sender's credentials alone are not enough.
      const dryRunAsked = c.req.query("dry_run") === "true";
      if (dryRunAsked) await verifyOperator(c.req.raw.headers, c.env);
      const config = c.var.config.relay();
      const received = await source.receive(delivery, now);
      if (received.refused) logProblem("delivery-refused", { source: source.name, reason: received.ignored });
      if (received.alerts.length === 0) {
        c.set("tally", { outcome: "ignored" });
        return c.json({ status: "ignored", reason: received.ignored ?? "the delivery carries no alerts" }, 200);
      }

      const message: DeliveryMessage = {
        version: DELIVERY_MESSAGE_VERSION,
        delivery_id: crypto.randomUUID(),
        source: source.name,
        received_at: now.toISOString(),
        alerts: received.alerts,
      };
      if (dryRunAsked) {
        const decisions = await dryRun(c.env, config, message);
        c.set("tally", { outcome: "dry-run" });
        return c.json({ status: "dry-run", alerts: received.alerts.length, decisions }, 200);
      }

      const senderKey = received.redeliveryKey;
      if (senderKey) {
        const first = await firstDeliveryOf(c.env.RELAY_KV, source.name, senderKey);
        if (first) {
          c.set("tally", { outcome: "duplicate" });
          return c.json({ status: "duplicate", delivery_id: first, reason: "this delivery was already received" }, 200);
        }
      }
      const parts = splitDelivery(message);
      // Sources bound what they keep of an alert; this is the backstop, so that no sender
      // retries for days a delivery the queue can never take.
      if (!fitsTheQueue(parts)) throw payloadTooLarge(`an alert is larger than ${MAX_MESSAGE_BYTES} bytes once normalized`);
      try {
        await enqueueParts(c.env.ALERT_QUEUE, parts);
      } catch (error) {
        logProblem("enqueue-failed", { source: source.name, error: error instanceof Error ? error.message : String(error) });
        throw unavailable("could not queue the delivery; retry later");
      }
      // Best effort: the idempotency keys downstream stop a redelivery from creating anything anyway.
      if (senderKey) {
        c.executionCtx.waitUntil(rememberDelivery(c.env.RELAY_KV, source.name, senderKey, message.delivery_id).catch(() => undefined));
      }
      c.set("tally", { outcome: "queued", alerts: received.alerts.length });
      return c.json(
        {
          status: "queued",
          delivery_id: message.delivery_id,
          alerts: received.alerts.length,
          // Only for a delivery too large for one queue message: the audit id of each part.
          ...(parts.length > 1 ? { parts: parts.map((part) => part.delivery_id) } : {}),
        },
        202,
      );
    },
  );
