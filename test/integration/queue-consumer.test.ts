import { beforeEach, describe, expect, it } from "vitest";
import { apiError, JANE, mockDexApi, OLD_CLIENT, SAM } from "../helpers/dex-api-mock";
import { currentDelivery, holdLedgerClock, ledger, runLedgerAlarm } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, postZapier, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";
import releaseOneMessage from "../fixtures/release-0.1.0/queue-message.json";

/** A Zapier alert about one user, queued through the real ingest. */
async function queueAlert(fields: Record<string, unknown>) {
  const { status, queued } = await postZapier({ severity: "critical", title: "VPN packet loss", ...fields });
  expect(status).toBe(202);
  return queued[0]!;
}

/** These tests are about sending: the shipped rules, every command sent at once (no approval). */
function runConsumer(bodies: readonly unknown[], attempts = 1) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce() });
}

function decisionsOf(record: Record<string, any> | null) {
  return (record?.decisions ?? []).map((d: any) => `${d.rule ?? "-"}/${d.device_id ?? "-"}: ${d.outcome}`);
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("queue consumer", () => {
  it("consumes a message as release 0.1.0 queued it, with no version, as it does the current one", async () => {
    const api = mockDexApi();
    const result = await runConsumer([releaseOneMessage]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.commands.map((command) => `${command.type}/${command.device_id}`).sort()).toEqual([`pcap/${JANE.deviceId}`, `warp-diag/${JANE.deviceId}`]);
    const record = await deliveryRecord(releaseOneMessage.delivery_id);
    expect(record).toMatchObject({ state: "done", source: "zapier" });
  });

  it("leaves a message of a version it does not know to the dead-letter queue, unread", async () => {
    const api = mockDexApi();
    const result = await runConsumer([{ ...releaseOneMessage, version: 99 }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "msg-0" }]);
    expect(api.calls).toHaveLength(0);
  });

  it("creates one command per matching rule and device, and records the delivery", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-1", user_email: "jane.doe@example.com" });
    const result = await runConsumer([message]);

    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.callsTo("create")[0]?.body).toEqual({
      commands: [
        {
          type: "pcap",
          args: { "time-limit-min": 2, "max-file-size-mb": 10 },
          device_id: JANE.deviceId,
          user_email: JANE.personEmail,
          registration_id: JANE.registrationId,
        },
        {
          type: "warp-diag",
          args: { "test-all-routes": true },
          device_id: JANE.deviceId,
          user_email: JANE.personEmail,
          registration_id: JANE.registrationId,
        },
      ],
    });
    const record = await deliveryRecord(message.delivery_id);
    expect(record).toMatchObject({ state: "done", source: "zapier", attempts: 1 });
    expect(decisionsOf(record)).toEqual([`vpn-packet-loss-pcap/${JANE.deviceId}: created`, `warp-diag-on-critical/${JANE.deviceId}: created`]);
    expect(record?.decisions[0].command_id).toBe(api.commands[0]?.id);
  });

  it("never creates a command twice for the same alert episode", async () => {
    const api = mockDexApi();
    const first = await queueAlert({ id: "INC-2", user_email: "jane.doe@example.com" });
    const retry = await queueAlert({ id: "INC-2", user_email: "jane.doe@example.com" });
    await runConsumer([first]);
    const result = await runConsumer([retry]);

    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.commands).toHaveLength(2);
    expect(decisionsOf(await deliveryRecord(retry.delivery_id))).toEqual([
      `vpn-packet-loss-pcap/${JANE.deviceId}: duplicate`,
      `warp-diag-on-critical/${JANE.deviceId}: duplicate`,
    ]);
  });

  it("drops duplicates within one batch too", async () => {
    const api = mockDexApi();
    const a = await queueAlert({ id: "INC-3", user_email: "sam.lee@example.com" });
    const b = await queueAlert({ id: "INC-3", user_email: "sam.lee@example.com" });
    await runConsumer([a, b]);
    expect(api.commands).toHaveLength(2);
    expect(decisionsOf(await deliveryRecord(b.delivery_id)).every((d: string) => d.endsWith("duplicate"))).toBe(true);
  });

  it("sends the commands of all messages in a batch in ceil(N/10) creates", async () => {
    const devices = Array.from({ length: 23 }, (_, i) => ({
      ...JANE,
      deviceId: `dev-${i}`,
      personEmail: `user${i}@example.com`,
      deviceName: `LAPTOP-${i}`,
      registrationId: `reg-${i}`,
    }));
    const api = mockDexApi(devices);
    const messages = [];
    for (let i = 0; i < 23; i++) {
      messages.push(await queueAlert({ id: `storm-${i}`, title: "Disk latency", user_email: `user${i}@example.com` }));
    }
    await runConsumer(messages);
    expect(api.commands).toHaveLength(23);
    expect(api.callsTo("create").map((c) => (c.body as any).commands.length)).toEqual([10, 10, 3]);
  });

  it("records a device that is unknown, or not eligible, with the reason", async () => {
    const api = mockDexApi();
    const unknown = await queueAlert({ id: "INC-4", user_email: "nobody@example.com" });
    const ineligible = await queueAlert({ id: "INC-5", user_email: OLD_CLIENT.personEmail });
    await runConsumer([unknown, ineligible]);
    expect(api.callsTo("create")).toHaveLength(0);
    expect((await deliveryRecord(unknown.delivery_id))?.decisions[0]).toMatchObject({
      outcome: "device-not-found",
      reason: expect.stringContaining("nobody@example.com"),
    });
    expect((await deliveryRecord(ineligible.delivery_id))?.decisions[0]).toMatchObject({
      outcome: "device-ineligible",
      device_id: OLD_CLIENT.deviceId,
      reason: OLD_CLIENT.ineligibleReason,
    });
  });

  it("looks a user up once per batch, however many alerts name them", async () => {
    const api = mockDexApi();
    const messages = [];
    for (let i = 0; i < 5; i++) messages.push(await queueAlert({ id: `same-user-${i}`, user_email: SAM.personEmail }));
    await runConsumer(messages);
    expect(api.callsTo("devices")).toHaveLength(1);
    // The shipped rules' cooldown lets one command of each type through per device.
    expect(api.commands).toHaveLength(2);
  });

  it("records alerts that match no rule or are not firing, and creates nothing", async () => {
    const api = mockDexApi();
    const quiet = await queueAlert({ id: "INC-6", severity: "info", title: "Disk usage", user_email: SAM.personEmail });
    const resolved = await queueAlert({ id: "INC-7", status: "resolved", user_email: SAM.personEmail });
    const result = await runConsumer([quiet, resolved]);
    expect(result.explicitAcks).toEqual(["msg-0", "msg-1"]);
    expect(api.calls).toHaveLength(0);
    expect(decisionsOf(await deliveryRecord(quiet.delivery_id))).toEqual(["-/-: no-rule"]);
    expect(decisionsOf(await deliveryRecord(resolved.delivery_id))).toEqual(["-/-: not-firing"]);
  });

  it("a 429 on a create: the ledger waits for Retry-After, then creates without reconciling", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-8", user_email: JANE.personEmail });
    api.failNext("create", apiError(429, "rate limited", undefined, { "retry-after": "120" }));

    const first = await runConsumer([message]);
    expect(first.explicitAcks).toEqual(["msg-0"]);
    const record = await deliveryRecord(message.delivery_id);
    expect(record?.state).toBe("in-progress");
    expect(record?.decisions.map((d: any) => d.outcome)).toEqual(["retrying", "retrying"]);
    // The lockout is the ledger's, for every call the relay makes.
    expect(await ledger().takeApiCalls(1)).toBeGreaterThan(110);

    expect(await runLedgerAlarm()).toBe(true);
    expect(api.callsTo("create")).toHaveLength(2);
    expect(api.callsTo("list")).toHaveLength(0);
    expect(api.commands).toHaveLength(2);
    const current = await currentDelivery(message.delivery_id);
    expect(current.state).toBe("done");
    expect(current.decisions.map((d: any) => d.outcome)).toEqual(["created", "created"]);
  });

  it("after a 5xx whose create had landed, finds the commands in the same attempt", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-9a", user_email: JANE.personEmail });
    api.landThenFail(apiError(502, "bad gateway"));

    const result = await runConsumer([message]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.callsTo("list")).toHaveLength(1);
    expect(api.commands).toHaveLength(2);
    const record = await deliveryRecord(message.delivery_id);
    expect(record?.decisions.map((d: any) => d.outcome)).toEqual(["created", "created"]);
    expect(record?.decisions.map((d: any) => d.command_id).sort()).toEqual(api.commands.map((c) => c.id).sort());
  });

  it("after a 5xx whose create had landed and could not be checked at once, finds the commands instead of creating them again", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-9", user_email: JANE.personEmail });
    api.landThenFail(apiError(502, "bad gateway"));
    api.failNext("list", apiError(503, "unavailable"));

    await runConsumer([message]);
    expect(api.commands).toHaveLength(2);

    await runLedgerAlarm();
    expect(api.callsTo("list")).toHaveLength(2);
    expect(api.callsTo("create")).toHaveLength(1);
    expect(api.commands).toHaveLength(2);
    const current = await currentDelivery(message.delivery_id);
    expect(current.decisions.map((d: any) => d.command_id).sort()).toEqual(api.commands.map((c) => c.id).sort());
  });

  it("after a lost connection whose create did not land, checks again and creates once, seconds later", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-10", user_email: SAM.personEmail });
    api.failNext("create", "network");
    await runConsumer([message]);
    expect(api.commands).toHaveLength(0);
    expect(api.callsTo("list")).toHaveLength(1);

    // Checked again before creating: the create might have landed late.
    await runLedgerAlarm();
    expect(api.callsTo("list")).toHaveLength(2);
    expect(api.commands).toHaveLength(2);
    expect((await currentDelivery(message.delivery_id)).state).toBe("done");
  });

  it("records a refused command as failed, sends the others, and does not retry", async () => {
    const api = mockDexApi();
    const message = await queueAlert({ id: "INC-11", user_email: JANE.personEmail });
    api.failNext("create", apiError(400, "device is not connected", "/commands/0/device_id"));
    const result = await runConsumer([message]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.commands.map((c) => c.type)).toEqual(["warp-diag"]);
    expect(decisionsOf(await deliveryRecord(message.delivery_id))).toEqual([
      `vpn-packet-loss-pcap/${JANE.deviceId}: failed`,
      `warp-diag-on-critical/${JANE.deviceId}: created`,
    ]);
  });

  it("gives up after the last attempt, records the failure, and lets the queue dead-letter it", async () => {
    mockDexApi();
    const message = await queueAlert({ id: "INC-12", user_email: JANE.personEmail });
    const api = mockDexApi();
    api.failNext("devices", apiError(503, "unavailable"));
    const result = await runConsumer([message], 6);
    expect(result.retryMessages).toHaveLength(1);
    const record = await deliveryRecord(message.delivery_id);
    expect(record?.state).toBe("dead-lettered");
    expect(record?.decisions[0]).toMatchObject({ outcome: "failed", reason: expect.stringContaining("dead-letter queue") });
  });

  it("retries a message whose body is not a delivery, so it ends in the dead-letter queue", async () => {
    mockDexApi();
    const result = await runConsumer([{ hello: "world" }]);
    expect(result.retryMessages).toEqual([{ msgId: "msg-0" }]);
  });
});
