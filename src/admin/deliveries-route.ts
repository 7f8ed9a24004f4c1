import { Hono } from "hono";
import type { RelayEnv } from "../config/middleware";
import { commandLedger } from "../ledger/ledger-stub";
import { readDeliveryRecord } from "../record/delivery-record";
import { notFound } from "../model/http-errors";
import { verifyBearer } from "../sources/bearer";
import { withLedger } from "./ledger-view";

const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.\d{1,4})?$/;

/**
 * `GET /v1/deliveries/{id}`: the audit record of one delivery — each alert's episode and
 * every decision with its reason — brought up to date from the command ledger, with each
 * command's DEX status as the ledger last read it (no DEX API call per read).
 * Needs `Authorization: Bearer <ADMIN_TOKEN>`; refuses everything while it is unset.
 */
export const deliveriesRoute = new Hono<RelayEnv>().get("/v1/deliveries/:id", async (c) => {
  await verifyBearer(c.req.raw.headers, c.env, "ADMIN_TOKEN", "the admin API is disabled");
  const id = c.req.param("id");
  // Ids are UUIDs, with `.N` for the parts of a split delivery; nothing else is looked up.
  const record = DELIVERY_ID.test(id) ? await readDeliveryRecord(c.env.RELAY_KV, id) : null;
  if (!record) {
    throw notFound("no such delivery: deliveries are recorded once the queue consumer has processed them, and kept 7 days");
  }
  const { accountId } = c.var.config.dex();
  const commandIds = record.decisions.flatMap((d) => (d.command_id ? [d.command_id] : []));
  const view = await commandLedger(c.env, accountId).describe(record.id, commandIds);
  return c.json(withLedger(record, view));
});
