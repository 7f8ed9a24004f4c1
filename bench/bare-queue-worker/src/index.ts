import { Hono } from "hono";

type Bindings = { QUEUE: Queue };

/**
 * Answers `POST /v1/alerts/{source}` with 202 after reading the body and sending one queue
 * message, of about the size of the relay's normalized delivery, and does nothing else.
 */
const app = new Hono<{ Bindings: Bindings }>().post("/v1/alerts/:source", async (c) => {
  const text = await c.req.text();
  await c.env.QUEUE.send({ delivery_id: crypto.randomUUID(), received_at: new Date().toISOString(), body: text }, { contentType: "json" });
  return c.json({ status: "queued" }, 202);
});

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
