import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import { DEAD_LETTER_QUEUE } from "../../src/consume/dead-letter-consumer";
import worker from "../../src/index";
import { RELAY } from "./relay";

const ADMIN = { authorization: "Bearer admin-test-token" };

/** Runs the dead-letter consumer on one batch, as the Queues runtime would after the last retry. */
export async function runDeadLetterConsumer(bodies: readonly unknown[], ids = bodies.map((_, i) => `dlq-${i}`), timestamp = new Date("2026-11-25T10:00:00Z")) {
  const batch = createMessageBatch<unknown>(
    DEAD_LETTER_QUEUE,
    bodies.map((body, i) => ({ id: ids[i]!, timestamp, attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await (worker as ExportedHandler<Env>).queue!(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** `GET /v1/dead-letters` with the admin token. */
export async function listDeadLetters() {
  const res = await exports.default.fetch(`${RELAY}/v1/dead-letters`, { headers: ADMIN });
  return res.json<{ dead_letters: Array<Record<string, any>>; cursor: string | null; unreadable?: Array<{ id: string; error: string }> }>();
}

/** Replays through the API, capturing what it puts on the queue. */
export async function replay(id: string, headers: Record<string, string> = ADMIN) {
  const sent: unknown[] = [];
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    sent.push(body);
    return { metadata: { metrics: { backlogCount: 1, backlogBytes: 0 } } } as QueueSendResponse;
  });
  try {
    const res = await exports.default.fetch(`${RELAY}/v1/dead-letters/${id}/replay`, { method: "POST", headers });
    return { status: res.status, json: await res.json<Record<string, any>>(), sent };
  } finally {
    send.mockRestore();
  }
}
