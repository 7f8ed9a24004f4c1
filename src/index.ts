import { Hono } from "hono";

const app = new Hono<{ Bindings: Env }>();
app.get("/", (c) => c.text("dex-alert-relay"));

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
