import { Hono } from "hono";
import * as z from "../model/zod";
import { readDeliveryRecord } from "../record/delivery-record";
import { OUTCOMES } from "../model/decision";
import { conflict, notFound } from "../model/http-errors";
import { withLedger } from "./ledger-view";
import { listDeliveries, type DeliveryView, type UnreadableDelivery } from "./list-deliveries";
import { operatorAuth } from "./operator-auth";
import type { AppEnv, RequestConfig } from "../config/middleware";
import { operatorLedger, optionalParam, optionalText, PageQuery, validQuery } from "./operator-query";

const DEVICE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.\d{1,4})?$/;

export const DeliveriesQuery = z.extend(PageQuery, {
  source: optionalText,
  outcome: optionalParam(z.enum(OUTCOMES)),
  device: optionalText,
});

/**
 * One page of deliveries, newest first, each brought up to date from the command ledger.
 * Records name devices by id; a device name is turned into the id of the device the ledger
 * last sent a command to under that name.
 */
export async function deliveriesPage(
  env: Env,
  config: RequestConfig,
  query: z.infer<typeof DeliveriesQuery>,
): Promise<{ deliveries: DeliveryView[]; cursor: string | null; unreadable: UnreadableDelivery[] }> {
  const ledger = operatorLedger(env, config);
  if (query.device && !DEVICE_ID.test(query.device)) {
    const [named] = (await ledger.listCommands({ device: query.device, limit: 1 })).commands;
    if (named) query = { ...query, device: named.device_id };
  }
  return listDeliveries(env.RELAY_KV, query, (record) =>
    ledger.describe(
      record.id,
      record.decisions.flatMap((d) => (d.command_id ? [d.command_id] : [])),
    ),
  );
}

/**
 * `GET /v1/deliveries?source=&outcome=&device=&since=&cursor=&limit=`: deliveries newest
 * first, with `unreadable` naming any this release cannot read. `GET /v1/deliveries/{id}`:
 * the audit record of one delivery — each alert's episode and every decision with its
 * reason — brought up to date from the command ledger, with each command's DEX status as
 * the ledger last read it (no DEX API call per read); 409 for a record this release cannot
 * read. Operators only (./operator-auth.ts).
 */
export const deliveriesRoute = new Hono<AppEnv>()
  // `/v1/deliveries/*` covers `/v1/deliveries` too.
  .use("/v1/deliveries/*", operatorAuth())
  .get("/v1/deliveries", validQuery(DeliveriesQuery), async (c) => {
    const page = await deliveriesPage(c.env, c.var.config, c.req.valid("query"));
    return c.json({
      deliveries: page.deliveries.map(({ id, ...rest }) => ({ delivery_id: id, ...rest })),
      cursor: page.cursor,
      // Deliveries recorded by a newer release: named, so that the page never hides them.
      ...(page.unreadable.length > 0 ? { unreadable: page.unreadable } : {}),
    });
  })
  .get("/v1/deliveries/:id", async (c) => {
    const id = c.req.param("id");
    // Ids are UUIDs, with `.N` for the parts of a split delivery; nothing else is looked up.
    const record = DELIVERY_ID.test(id) ? await readDeliveryRecord(c.env.RELAY_KV, id) : null;
    if (!record) {
      throw notFound("no such delivery: deliveries are recorded once the queue consumer has processed them, and kept 7 days");
    }
    if (!record.success) throw conflict(`this release cannot read the record of this delivery: ${record.error}`);
    const commandIds = record.data.decisions.flatMap((d) => (d.command_id ? [d.command_id] : []));
    const entries = await operatorLedger(c.env, c.var.config).describe(record.data.id, commandIds);
    return c.json(withLedger(record.data, entries));
  });
