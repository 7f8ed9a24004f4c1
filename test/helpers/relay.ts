import { createExecutionContext, createMessageBatch, getQueueResult, reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import worker from "../../src/index";
import { deliveryKey } from "../../src/model/kv-keys";
import { enrol, enrolled } from "./dex-api-mock";
import { signPagerDuty } from "./sign";

export const RELAY = "https://relay.test";
export const ZAPIER_AUTH = { authorization: "Bearer zapier-test-token" };

/**
 * Posts to the relay through its real fetch handler. The queue's `send` is captured rather
 * than delivered, so a test decides when, and in which batches, the consumer sees it.
 */
export async function post(path: string, init: RequestInit) {
  const queued: DeliveryMessage[] = [];
  const refusals = watchRefusals();
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    queued.push(body as DeliveryMessage);
    return { metadata: { metrics: { backlogCount: queued.length, backlogBytes: 0 } } } as QueueSendResponse;
  });
  try {
    const response = await exports.default.fetch(`${RELAY}${path}`, { method: "POST", ...init });
    const json = (await response.json()) as Record<string, any>;
    return { response, status: response.status, json, queued, reason: refusals.reason() };
  } finally {
    send.mockRestore();
    refusals.stop();
  }
}

/**
 * Requests the relay through its fetch handler, as `exports.default.fetch` does, but with a
 * copy of the test configuration that `overrides` changes. What the request leaves running
 * (`waitUntil`) goes on in the background, as it would in production.
 */
export async function fetchWith(overrides: Partial<Record<keyof Env, unknown>>, url: string, init?: RequestInit): Promise<Response> {
  const request = new Request(url, init);
  return (worker as ExportedHandler<Env>).fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides } as Env,
    createExecutionContext(),
  );
}

/**
 * Watches the relay's problem log for authentication refusals. Every 401 says only
 * `unauthorized`; the reason is logged, and this is where tests read it.
 */
export function watchRefusals() {
  const reasons: string[] = [];
  const original = console.error;
  const watcher = (...args: unknown[]) => {
    try {
      const line = JSON.parse(String(args[0]));
      if (line?.event === "unauthorized") reasons.push(String(line.reason));
    } catch {
      // Not one of the relay's JSON lines.
    }
    original.apply(console, args);
  };
  console.error = watcher;
  return {
    /** The reason of the last refusal, if there was one. */
    reason: () => reasons.at(-1),
    stop: () => {
      if (console.error === watcher) console.error = original;
    },
  };
}

export function postZapier(body: Record<string, unknown>, headers: Record<string, string> = {}, query = "") {
  return post(`/v1/alerts/zapier${query}`, {
    headers: { ...ZAPIER_AUTH, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export async function postPagerDuty(body: unknown, headers: Record<string, string> = {}, query = "") {
  const text = JSON.stringify(body);
  return post(`/v1/alerts/pagerduty${query}`, {
    headers: {
      "content-type": "application/json",
      "x-pagerduty-signature": await signPagerDuty(text, "pd-secret-current"),
      ...headers,
    },
    body: text,
  });
}

/** A delivery the consumer queued again (its lookups wait for the API budget), and after how long. */
export interface Continuation {
  body: DeliveryMessage;
  delaySeconds: number;
}

/**
 * Runs the Worker's queue consumer on one batch, as the Queues runtime would, and returns the
 * acks and retries, and the continuations it queued (captured rather than delivered, so a
 * test decides when the consumer sees them).
 */
export async function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Partial<Record<keyof Env, unknown>> = {}) {
  const continued: Continuation[] = [];
  const send = vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body, options) => {
    continued.push({ body: body as DeliveryMessage, delaySeconds: options?.delaySeconds ?? 0 });
    return { metadata: { metrics: { backlogCount: continued.length, backlogBytes: 0 } } } as QueueSendResponse;
  });
  try {
    return { ...(await consumeBatch(bodies, attempts, overrides)), continued };
  } finally {
    send.mockRestore();
  }
}

async function consumeBatch(bodies: readonly unknown[], attempts: number, overrides: Partial<Record<keyof Env, unknown>>) {
  const batch = createMessageBatch<unknown>(
    "dex-alert-relay-alerts",
    bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts, body })),
  );
  // The test runtime's batch does not report retry delays: watch the calls instead.
  const retryDelays: Record<string, number | undefined> = {};
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retryDelays[message.id] = options?.delaySeconds;
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await (worker as ExportedHandler<Env>).queue!(batch, { ...env, ...overrides } as Env, ctx);
  return { ...(await getQueueResult(batch, ctx)), retryDelays };
}

/**
 * The shipped rules without `approval`, for tests about sending and reporting: there, the
 * shipped pcap rule's capture would wait for a person and never go out. Approval has tests
 * of its own (test/integration/approvals.test.ts, test/reports/approvals.test.ts).
 */
export function rulesSentAtOnce(): unknown[] {
  return (env.RULES as unknown as Array<Record<string, unknown>>).map(({ approval: _approval, ...rule }) => rule);
}

/** The shipped rules, with the pcap rule's approval limited to `approvers`. */
export function rulesWithApprovers(approvers: string[]): unknown[] {
  return (env.RULES as unknown as Array<Record<string, any>>).map((rule) =>
    rule.name === "vpn-packet-loss-pcap" ? { ...rule, approval: { ...rule.approval, approvers } } : rule,
  );
}

export async function deliveryRecord(id: string) {
  return env.RELAY_KV.get<Record<string, any>>(deliveryKey(id), "json");
}

/**
 * Each test starts from empty storage (KV and the command ledger) with its mocks and clock
 * undone, and the relay's one-line
 * decision logs kept out of the test output.
 */
export function isolateEachTest() {
  beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(async () => {
    enrolled.length = 0;
    vi.restoreAllMocks();
    vi.useRealTimers();
    await reset();
  });
}

/**
 * `count` critical Zapier alerts, queued through the real ingest, each naming its own device
 * outright (enrolled with the DEX API mock as connected), so that only create (and reconcile)
 * calls reach the API.
 */
export async function queueAlertsOnOwnDevices(count: number, prefix: string): Promise<DeliveryMessage[]> {
  const messages: DeliveryMessage[] = [];
  for (let i = 0; i < count; i++) {
    const deviceId = `device-${prefix}-${i}`;
    enrol(deviceId, `user${i}@example.com`);
    const { status, queued } = await postZapier({
      id: `${prefix}-${i}`,
      title: "Disk latency",
      severity: "critical",
      device_id: deviceId,
      user_email: `user${i}@example.com`,
    });
    if (status !== 202) throw new Error(`ingest answered ${status} for alert ${prefix}-${i}`);
    messages.push(queued[0]!);
  }
  return messages;
}
