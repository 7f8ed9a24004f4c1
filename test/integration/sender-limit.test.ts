import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { senderKey } from "../../src/receive/sender-limit";
import alertmanagerFiring from "../../src/sources/alertmanager/fixtures/packet-loss.firing.json";
import { mockDexApi } from "../helpers/dex-api-mock";
import { flushIngestCounts, scrape } from "../helpers/metrics";
import { isolateEachTest, RELAY } from "../helpers/relay";
import { shippedConfig } from "../helpers/wrangler-config";

/** The SENDER_LIMITER rate limit of wrangler.jsonc: its limit and period. */
function senderLimit(): { limit: number; period: number } | undefined {
  return shippedConfig().ratelimits?.find((limiter) => limiter.name === "SENDER_LIMITER")?.simple;
}

isolateEachTest();
beforeEach(flushIngestCounts);

describe("senderKey", () => {
  it("names a bearer token or a Cloudflare secret by a hash with its source, and a signed delivery by its source", async () => {
    const bearer = await senderKey("alertmanager", new Headers({ authorization: "Bearer s3cret-token" }));
    expect(bearer).toMatch(/^alertmanager:[0-9a-f]{32}$/);
    expect(bearer).not.toContain("s3cret");
    expect(await senderKey("alertmanager", new Headers({ authorization: "bearer s3cret-token " }))).toBe(bearer);
    expect(await senderKey("alertmanager", new Headers({ authorization: "Bearer other-token" }))).not.toBe(bearer);
    expect(await senderKey("datadog", new Headers({ authorization: "Bearer s3cret-token" }))).not.toBe(bearer.replace("alertmanager", "datadog"));
    expect(await senderKey("cloudflare", new Headers({ "cf-webhook-auth": "cf-secret" }))).toMatch(/^cloudflare:[0-9a-f]{32}$/);
    // The signature changes with every body: what it names is the source's one signing secret.
    expect(await senderKey("grafana", new Headers({ "x-grafana-alerting-signature": "ab12", authorization: "Bearer x" }))).toBe("grafana:signed");
    expect(await senderKey("pagerduty", new Headers({ "x-pagerduty-signature": "v1=ab12" }))).toBe("pagerduty:signed");
  });
});

describe("a sender over its rate", () => {
  it("is configured in wrangler.jsonc with a period the binding allows", () => {
    const configured = senderLimit();
    expect(configured).toEqual({ limit: expect.any(Number), period: expect.any(Number) });
    expect([10, 60]).toContain(configured!.period);
    expect(configured!.limit).toBeGreaterThanOrEqual(60);
  });

  it("gets 429 with Retry-After past the limit, while every other sender's alerts are queued, none lost", async () => {
    const { limit, period } = senderLimit()!;
    mockDexApi();
    // Tokens of their own, so this flood spends no key another test uses.
    const leaked = `leaked-${crypto.randomUUID()}`;
    const zapierToken = `zapier-${crypto.randomUUID()}`;
    const relayEnv = { ...env, ALERTMANAGER_TOKEN: leaked, ZAPIER_TOKEN: zapierToken };
    const queued: DeliveryMessage[] = [];
    vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
      queued.push(body as DeliveryMessage);
      return { metadata: { metrics: { backlogCount: queued.length, backlogBytes: 0 } } } as QueueSendResponse;
    });
    const send = (source: string, token: string, body: string) =>
      app.fetch(
        new Request(`${RELAY}/v1/alerts/${source}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        }),
        relayEnv,
        createExecutionContext(),
      );
    // The local limiter counts in windows aligned to the clock: start the flood early in one.
    const intoWindow = Date.now() % (period * 1000);
    if (intoWindow > period * 1000 - 15_000) await new Promise((resolve) => setTimeout(resolve, period * 1000 - intoWindow + 50));

    const flood = JSON.stringify(alertmanagerFiring);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    const others: number[] = [];
    for (let i = 0; i < limit + 40; i++) {
      const res = await send("alertmanager", leaked, flood);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        expect(await res.json()).toEqual({ error: expect.stringMatching(/too many deliveries/) });
      }
      if (i % 20 === 0) {
        const other = await send("zapier", zapierToken, JSON.stringify({ id: `OTHER-${i}`, title: "Slow Wi-Fi", user_email: "sam.lee@example.com" }));
        others.push(other.status);
      }
    }

    expect(statuses.filter((s) => s === 202)).toHaveLength(limit);
    expect(statuses.slice(0, limit).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(limit)).toEqual(new Array(40).fill(429));
    expect(retryAfter).toBe("60");
    // Every other sender got through, and every delivery answered 202 is on the queue.
    expect(others.every((s) => s === 202)).toBe(true);
    expect(queued.filter((m) => m.source === "zapier")).toHaveLength(others.length);
    expect(queued.filter((m) => m.source === "alertmanager")).toHaveLength(limit);

    const after = await scrape();
    expect(after.value("dex_relay_deliveries_received_total", { source: "alertmanager", outcome: "rate-limited" })).toBe(40);
    expect(after.value("dex_relay_deliveries_received_total", { source: "alertmanager", outcome: "queued" })).toBe(limit);
    expect(after.value("dex_relay_deliveries_received_total", { source: "zapier", outcome: "queued" })).toBe(others.length);
    expect(after.value("dex_relay_deliveries_received_total", { source: "zapier", outcome: "rate-limited" })).toBe(0);
  }, 90_000);

  it("is not limited at all without the binding: the limit protects, it never decides", async () => {
    mockDexApi();
    vi.spyOn(env.ALERT_QUEUE, "send").mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse);
    const res = await app.fetch(
      new Request(`${RELAY}/v1/alerts/alertmanager`, {
        method: "POST",
        headers: { authorization: "Bearer alertmanager-test-token", "content-type": "application/json" },
        body: JSON.stringify(alertmanagerFiring),
      }),
      { ...env, SENDER_LIMITER: undefined },
      createExecutionContext(),
    );
    expect(res.status).toBe(202);
  });
});
