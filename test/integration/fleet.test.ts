import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fleetDevice } from "../../dev/dex-stand-in/fleet";
import type { AccountDevice } from "../../dev/dex-stand-in/devices";
import { isLookupWait } from "../../src/consume/delivery";
import type { Decision } from "../../src/model/decision";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { deliveryKey } from "../../src/model/kv-keys";
import { consumeUntilSettled } from "../helpers/continuations";
import { JANE, mockDexApi, OLD_CLIENT, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, ledger } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, post, runConsumer } from "../helpers/relay";
import { alertGroup } from "../helpers/source-fixtures";

/** `count` eligible laptops of a generated fleet, spread over it (every `step`-th device). */
function laptops(count: number, step: number, from = 0): AccountDevice[] {
  const found: AccountDevice[] = [];
  for (let i = from; found.length < count; i += step) {
    const [device] = fleetDevice(i, new Date());
    if (device!.eligible) found.push(device!);
  }
  return found;
}

/** An Alertmanager group with one firing, critical alert per host, queued through the real ingest. */
async function queueGroup(hosts: readonly string[], name = "WarpTunnelPacketLoss"): Promise<DeliveryMessage[]> {
  const group = alertGroup(
    hosts.map((host, i) => ({
      status: "firing",
      labels: { alertname: name, severity: "critical", hostname: host },
      annotations: { summary: `WARP tunnel packet loss on ${host}` },
      startsAt: "2026-11-25T09:38:07.104Z",
      endsAt: "0001-01-01T00:00:00Z",
      fingerprint: `${name.length.toString(16)}${i.toString(16).padStart(15, "0")}`,
    })),
  );
  const { status, queued } = await post("/v1/alerts/alertmanager", {
    headers: { authorization: "Bearer alertmanager-test-token", "content-type": "application/json" },
    body: JSON.stringify(group),
  });
  expect(status).toBe(202);
  return queued;
}

/** Every decision of the delivery's parts, as their KV records end. */
async function recorded(messages: readonly DeliveryMessage[]): Promise<Decision[][]> {
  return Promise.all(messages.map(async (m) => ((await deliveryRecord(m.delivery_id))?.decisions ?? []) as Decision[]));
}

/** Each alert of each part has exactly one decision, and none still stands in for a lookup. */
function expectOneDecisionPerAlert(messages: readonly DeliveryMessage[], decisions: Decision[][]): void {
  messages.forEach((message, part) => {
    expect(decisions[part]!.map((d) => d.alert)).toEqual(message.alerts.map((_, i) => i));
    expect(decisions[part]!.filter(isLookupWait)).toEqual([]);
  });
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("device lookups at the scale of the fleet", () => {
  it("a 25-alert group naming 25 laptops: 25 commands in 3 creates, the devices from one read of the list", async () => {
    const api = mockDexApi(undefined, {}, { fleet: 100 });
    const messages = await queueGroup(laptops(25, 3).map((d) => d.deviceName));
    const result = await runConsumer(messages, 1, { MAX_COMMANDS_PER_MINUTE: "40" });

    expect(result.continued).toEqual([]);
    expect(api.commands).toHaveLength(25);
    expect(api.callsTo("create").length).toBeLessThanOrEqual(3);
    // 103 devices: three pages of the list cost less than 25 searches.
    expect(api.deviceListReads()).toHaveLength(3);
    expect(api.deviceSearches()).toEqual([]);
    const decisions = await recorded(messages);
    expectOneDecisionPerAlert(messages, decisions);
    expect(decisions.flat().every((d) => d.outcome === "created")).toBe(true);
  });

  it("a 200-alert group against 10,000 devices: every command the caps allow, the rest waiting then expired under the minute's cap, none capped, and no 429", async () => {
    const api = mockDexApi(undefined, {}, { fleet: 10_000 });
    const messages = await queueGroup(laptops(200, 41).map((d) => d.deviceName));
    const { continued } = await consumeUntilSettled(messages, { MAX_COMMANDS_PER_MINUTE: "10" });

    // The first batch could pay for about a hundred lookups: the rest came back later.
    expect(continued.length).toBeGreaterThan(0);
    expect(api.calls.filter((c) => c.status === 429)).toEqual([]);
    const searched = api.deviceSearches().map((c) => c.url.searchParams.get("search"));
    expect(new Set(searched).size).toBe(searched.length);
    expect(searched.length + api.deviceListReads().length).toBeLessThanOrEqual(202);

    const decisions = await recorded(messages);
    expectOneDecisionPerAlert(messages, decisions);
    const current = (await Promise.all(messages.map((m) => currentDelivery(m.delivery_id)))).flatMap((d) => d.decisions as Decision[]);
    const created = current.filter((d) => d.outcome === "created");
    const expired = current.filter((d) => d.outcome === "expired");
    expect(created.length + expired.length).toBe(200);
    expect(current.filter((d) => d.outcome === "capped")).toEqual([]);
    expect(created.map((d) => d.command_id).sort()).toEqual(api.commands.map((c) => c.id).sort());
    // Eight a minute for one source (three quarters of 10), for ten minutes from each claim.
    expect(created.length).toBeGreaterThanOrEqual(80);
    expect(expired.every((d) => /MAX_COMMANDS_PER_MINUTE \(10\)/.test(d.reason))).toBe(true);
    expect(current.some((d) => /lookup/.test(d.reason) && d.outcome !== "created")).toBe(false);
  }, 120_000);
});

describe("choosing how to look devices up", () => {
  it("searches device by device when the fleet is larger than the group, after one page told its size", async () => {
    const api = mockDexApi(undefined, {}, { fleet: 10_000 });
    const group = laptops(50, 97);
    await runConsumer(await queueGroup(group.slice(0, 25).map((d) => d.deviceName)), 1, { MAX_COMMANDS_PER_MINUTE: "240" });
    expect(api.deviceListReads()).toHaveLength(1);
    expect(api.deviceSearches()).toHaveLength(25);

    // The fleet's size is remembered: the next group goes straight to its searches.
    await runConsumer(
      await queueGroup(
        group.slice(25).map((d) => d.deviceName),
        "DiskLatency",
      ),
      1,
      { MAX_COMMANDS_PER_MINUTE: "240" },
    );
    expect(api.deviceListReads()).toHaveLength(1);
    expect(api.deviceSearches()).toHaveLength(50);
    expect(api.commands).toHaveLength(50);
  });

  it("reads the list when it has fewer pages than the group names devices, and the next batch within the minute reads nothing", async () => {
    const api = mockDexApi(undefined, {}, { fleet: 500 });
    const group = laptops(50, 7);
    await runConsumer(await queueGroup(group.slice(0, 25).map((d) => d.deviceName)), 1, { MAX_COMMANDS_PER_MINUTE: "240" });
    // 505 registrations: 11 pages, against 25 searches.
    expect(api.deviceListReads()).toHaveLength(11);
    expect(api.deviceSearches()).toEqual([]);

    advanceClock(30_000);
    await runConsumer(
      await queueGroup(
        group.slice(25).map((d) => d.deviceName),
        "DiskLatency",
      ),
      1,
      { MAX_COMMANDS_PER_MINUTE: "240" },
    );
    expect(api.callsTo("devices")).toHaveLength(11);
    expect(api.commands).toHaveLength(50);
  });
});

describe("lookups the API budget cannot pay for", () => {
  it("wait in a continuation that names the alerts, then the alerts are planned once and recorded once", async () => {
    const api = mockDexApi(undefined, {}, { fleet: 10_000 });
    const hosts = laptops(6, 131).map((d) => d.deviceName);
    const messages = await queueGroup(hosts);
    // Four calls left: the fleet's size and three searches.
    expect(await ledger().takeApiCalls(96)).toBe(0);

    const first = await runConsumer(messages, 1, { MAX_COMMANDS_PER_MINUTE: "60" });
    expect(first.explicitAcks).toEqual(["msg-0"]);
    expect(first.continued).toHaveLength(1);
    const [continuation] = first.continued;
    expect(continuation!.body).toMatchObject({ version: 2, delivery_id: messages[0]!.delivery_id, pending: [3, 4, 5] });
    expect(continuation!.delaySeconds).toBeGreaterThanOrEqual(1);
    const meanwhile = await deliveryRecord(messages[0]!.delivery_id);
    expect(meanwhile?.state).toBe("in-progress");
    expect(meanwhile?.decisions.filter(isLookupWait).map((d: Decision) => d.alert)).toEqual([3, 4, 5]);

    await consumeUntilSettled([continuation!.body], { MAX_COMMANDS_PER_MINUTE: "60" });
    expect(api.commands.map((c) => c.device_id).sort()).toEqual(
      laptops(6, 131)
        .map((d) => d.deviceId)
        .sort(),
    );
    expect(api.calls.filter((c) => c.status === 429)).toEqual([]);
    const decisions = await recorded(messages);
    expectOneDecisionPerAlert(messages, decisions);
    expect((await currentDelivery(messages[0]!.delivery_id)).decisions.map((d: Decision) => d.outcome)).toEqual(Array(6).fill("created"));
  });

  it("expire, with the reason, once the budget cannot pay for them within ten minutes of the alert", async () => {
    const api = mockDexApi();
    const messages = await queueGroup([JANE.deviceName!, SAM.deviceName!]);
    await ledger().lockOut(300);

    const first = await runConsumer(messages);
    expect(first.continued.map((c) => c.delaySeconds)).toEqual([300]);
    expect((await deliveryRecord(messages[0]!.delivery_id))?.decisions.map((d: Decision) => d.reason)).toEqual(
      Array(2).fill(expect.stringContaining("looked up again at")),
    );

    // Five minutes on, the API locks the token out again, past the capture's useful window.
    advanceClock(300_000);
    await ledger().lockOut(400);
    const second = await runConsumer(first.continued.map((c) => c.body));
    expect(second.continued).toEqual([]);
    const record = await deliveryRecord(messages[0]!.delivery_id);
    expect(record?.state).toBe("done");
    expect(record?.decisions).toEqual(
      [0, 1].map((alert) =>
        expect.objectContaining({
          alert,
          outcome: "expired",
          rule: "warp-diag-on-critical",
          reason: expect.stringMatching(/DEX API budget had no room for its device lookup within 10 minutes of the alert/),
        }),
      ),
    );
    expect(api.calls).toEqual([]);
  });

  it("a continuation whose record KV has not caught up plans every alert again, and the ledger creates nothing twice", async () => {
    const api = mockDexApi([JANE, SAM, OLD_CLIENT], {}, { fleet: 10_000 });
    const messages = await queueGroup(laptops(4, 211).map((d) => d.deviceName));
    expect(await ledger().takeApiCalls(97)).toBe(0);
    const first = await runConsumer(messages, 1, { MAX_COMMANDS_PER_MINUTE: "60" });
    expect(first.continued[0]?.body.pending).toEqual([2, 3]);

    await env.RELAY_KV.delete(deliveryKey(messages[0]!.delivery_id));
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await consumeUntilSettled(
      first.continued.map((c) => c.body),
      { MAX_COMMANDS_PER_MINUTE: "60" },
    );
    expect(log.mock.calls.some(([line]) => String(line).includes('"event":"continuation-replanned"'))).toBe(true);
    expect(api.commands).toHaveLength(4);
    expectOneDecisionPerAlert(messages, await recorded(messages));
  });
});
