import { Hono } from "hono";
import { loadConfig } from "../config/settings";
import { DexClient } from "../dispatch/dex/client";
import { readDeliveryRecord } from "../record/delivery-record";
import { misconfigured, notFound } from "../receive/errors";
import { verifyBearer } from "../sources/bearer";
import { SOURCE_NAMES } from "../sources/registry";
import { readCommandStatuses } from "./command-status";

const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.\d{1,4})?$/;

/**
 * `GET /v1/deliveries/{id}`: the audit record of one delivery — each alert's episode and
 * every decision with its reason — plus the current status of the commands it created.
 * Needs `Authorization: Bearer <ADMIN_TOKEN>`; refuses everything while it is unset.
 */
export const deliveriesRoute = new Hono<{ Bindings: Env }>().get("/v1/deliveries/:id", async (c) => {
  await verifyBearer(c.req.raw.headers, c.env, "ADMIN_TOKEN", "the admin API is disabled");
  const id = c.req.param("id");
  // Ids are UUIDs, with `.N` for the parts of a split delivery; nothing else is looked up.
  const record = DELIVERY_ID.test(id) ? await readDeliveryRecord(c.env.RELAY_KV, id) : null;
  if (!record) {
    throw notFound("no such delivery: deliveries are recorded once the queue consumer has processed them, and kept 7 days");
  }
  const loaded = loadConfig(c.env, SOURCE_NAMES);
  if (!loaded.ok) throw misconfigured(`relay configuration is invalid: ${loaded.error}`);
  const { dexApiBase, accountId, dexApiToken } = loaded.config;
  const api = new DexClient({ baseUrl: dexApiBase, accountId, token: dexApiToken });
  const commands = await readCommandStatuses(api, record.decisions, record.received_at);
  return c.json({ ...record, commands });
});
