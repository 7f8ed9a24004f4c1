import { Hono } from "hono";
import { metricsLedger } from "../ledger/count-in-ledger";
import { METRICS, seededLabels, type MetricSample } from "../model/metrics";
import { listDeadLetters } from "../record/dead-letters";
import { SOURCE_NAMES } from "../sources/registry";
import { checkHealth } from "./health";
import { metricsAuth } from "./metrics-auth";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./metrics-exposition";
import type { AppEnv } from "../config/middleware";

/** KV list pages (1,000 keys each) read for the dead-letter gauge: past this, it shows at least this many. */
const MAX_DEAD_LETTER_PAGES = 5;

/**
 * `GET /metrics`: the relay's numbers in Prometheus' text format, for a scrape with
 * `Authorization: Bearer <METRICS_TOKEN>` or an operator. Counters and most gauges come from
 * the command ledger in one request; dead letters waiting are counted from KV's listing (one
 * list operation per 1,000 kept); the configuration's problems from the health check.
 */
export const metricsRoute = new Hono<AppEnv>().get("/metrics", metricsAuth(), async (c) => {
  const ledger = metricsLedger(c.env);
  const [snapshot, deadLetters] = await Promise.all([ledger?.metrics(), deadLettersWaiting(c.env.RELAY_KV)]);
  const samples: MetricSample[] = [
    ...(snapshot?.counters ?? []),
    ...(snapshot?.gauges ?? []),
    { name: METRICS.deadLettersWaiting.name, labels: {}, value: deadLetters },
    { name: METRICS.configProblems.name, labels: {}, value: checkHealth(c.env).problems.length },
  ];
  return c.body(renderExposition(samples, seededLabels(SOURCE_NAMES)), 200, {
    "content-type": EXPOSITION_CONTENT_TYPE,
    "cache-control": "no-store",
  });
});

/** Dead letters no operator has replayed yet, as far as this release can tell. */
async function deadLettersWaiting(kv: KVNamespace): Promise<number> {
  let waiting = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_DEAD_LETTER_PAGES; page++) {
    const listed = await listDeadLetters(kv, { limit: 1000, ...(cursor ? { cursor } : {}) });
    // One this release cannot read (a newer release's) still waits for someone.
    waiting += listed.dead_letters.filter((letter) => !letter.replayed_at).length + listed.unreadable.length;
    if (!listed.cursor) break;
    cursor = listed.cursor;
  }
  return waiting;
}
