import { Hono } from "hono";

/**
 * Answers `POST /v1/alerts/{source}` with 202 and does nothing else. The body is read, as
 * any handler that acts on it must, so the baseline receives the same bytes as the relay.
 * `GET /healthz` answers 200, for the cold-start comparison.
 */
const app = new Hono()
  .post("/v1/alerts/:source", async (c) => {
    await c.req.text();
    return c.json({ status: "queued" }, 202);
  })
  .get("/healthz", (c) => c.json({ status: "ok" }));

export default {
  fetch: app.fetch,
} satisfies ExportedHandler;
