import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { deliveryKey, redeliveryKey } from "../../src/model/kv-keys";
import { DELIVERY_INDEX_PREFIX } from "../../src/record/delivery-index";
import triggeredFixture from "../../src/sources/pagerduty/fixtures/incident.triggered.json?raw";
import { listDeadLetters, replay, runDeadLetterConsumer } from "../helpers/dead-letters";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { holdLedgerClock } from "../helpers/ledger";
import { keysUnder, putAsWritten, releaseOne, storedEntry } from "../helpers/release-0.1.0";
import { isolateEachTest, postPagerDuty, RELAY, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";
import { freshPagerDuty } from "../helpers/source-fixtures";

const ADMIN = { authorization: "Bearer admin-test-token" };
const DELIVERY_ID = releaseOne.queueMessage.delivery_id;
const DEAD_LETTER_ID = releaseOne.deadLetter.value.id;
/** Release 0.1.0's message as this release reads it, and queues it again. */
const CURRENT_MESSAGE = { version: 2, ...releaseOne.queueMessage };

async function get(path: string) {
  const res = await exports.default.fetch(`${RELAY}${path}`, { headers: ADMIN });
  return { status: res.status, json: await res.json<Record<string, any>>() };
}

/** The delivery record and index entry release 0.1.0 left: a delivery retrying after a failed device lookup. */
async function releaseOneDelivery() {
  await putAsWritten(releaseOne.deliveryRecord);
  await putAsWritten(releaseOne.deliveryIndexEntry);
}

/** The consumer with the rules as release 0.1.0 shipped them: none waits for an approval. */
function runConsumer(bodies: readonly unknown[], attempts = 1) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce() });
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("the audit trail release 0.1.0 recorded, read by this release", () => {
  it("GET /v1/deliveries lists its delivery, filtered on its index entry", async () => {
    mockDexApi();
    await releaseOneDelivery();
    for (const filter of ["", `?device=${JANE.deviceId}`, "?outcome=retrying", "?source=zapier"]) {
      const { status, json } = await get(`/v1/deliveries${filter}`);
      expect(status, filter).toBe(200);
      expect(json.unreadable, filter).toBeUndefined();
      expect(
        json.deliveries.find((d: any) => d.delivery_id === DELIVERY_ID),
        filter,
      ).toMatchObject({
        source: "zapier",
        state: "retrying",
        decisions: releaseOne.deliveryRecord.value.decisions,
      });
    }
    expect((await get("/v1/deliveries?source=pagerduty")).json.deliveries).toEqual([]);
  });

  it("GET /v1/deliveries/{id} answers its record as it was recorded", async () => {
    mockDexApi();
    await releaseOneDelivery();
    const { status, json } = await get(`/v1/deliveries/${DELIVERY_ID}`);
    expect(status).toBe(200);
    // The ledger holds none of 0.1.0's commands here (test/upgrade carries its ledger): nothing to bring up to date.
    expect(json).toEqual({ ...releaseOne.deliveryRecord.value, commands: [], reports: [] });
  });

  it("GET /v1/dead-letters lists its dead letter, and GET /v1/dead-letters/{id} gives its delivery as the current message", async () => {
    mockDexApi();
    await putAsWritten(releaseOne.deadLetter);
    const listed = await listDeadLetters();
    expect(listed).toEqual({ dead_letters: [releaseOne.deadLetter.metadata], cursor: null });
    const { status, json } = await get(`/v1/dead-letters/${DEAD_LETTER_ID}`);
    expect(status).toBe(200);
    expect(json).toEqual({ ...releaseOne.deadLetter.value, message: CURRENT_MESSAGE });
  });

  it("the console shows its delivery and its dead letter, with a replay button", async () => {
    mockDexApi();
    await releaseOneDelivery();
    await putAsWritten(releaseOne.deadLetter);
    const res = await exports.default.fetch(`${RELAY}/console`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(DELIVERY_ID);
    expect(html).toContain("device lookup failed: DEX API 503: unavailable");
    expect(html).toContain(`action="/console/dead-letters/${DEAD_LETTER_ID}/replay"`);
    expect(html).not.toContain("cannot read");
  });
});

describe("carrying on what release 0.1.0 started", () => {
  it("a replay of its dead letter queues the current message and creates its commands once, however often it is replayed", async () => {
    const api = mockDexApi();
    await putAsWritten(releaseOne.deadLetter);

    const first = await replay(DEAD_LETTER_ID);
    expect(first).toMatchObject({ status: 202, json: { status: "queued", delivery_id: DELIVERY_ID } });
    expect(first.sent).toEqual([CURRENT_MESSAGE]);
    expect((await runConsumer(first.sent)).explicitAcks).toEqual(["msg-0"]);
    expect(api.commands.map((c) => `${c.type}/${c.device_id}`).sort()).toEqual([`pcap/${JANE.deviceId}`, `warp-diag/${JANE.deviceId}`]);

    const again = await replay(DEAD_LETTER_ID);
    expect(again.status).toBe(202);
    await runConsumer(again.sent);
    expect(api.commands).toHaveLength(2);
    expect(api.callsTo("create")).toHaveLength(1);

    // Rewritten in this release's version, message and summary included.
    const stored = await storedEntry(releaseOne.deadLetter.key);
    expect(stored?.value).toMatchObject({ version: 2, id: DEAD_LETTER_ID, message: CURRENT_MESSAGE, replays: [{ by: "admin token" }, { by: "admin token" }] });
    expect(stored?.metadata).toEqual({ ...releaseOne.deadLetter.metadata, version: 2, replayed_at: stored?.value.replays[1].at });
  });

  it("the consumer retrying a delivery 0.1.0 recorded leaves one record, and one index entry, in this release's version", async () => {
    const api = mockDexApi();
    await releaseOneDelivery();
    // The retry 0.1.0 asked for, run by this release.
    const result = await runConsumer([releaseOne.queueMessage], 2);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(api.commands).toHaveLength(2);

    expect(await keysUnder(deliveryKey(DELIVERY_ID))).toHaveLength(1);
    const record = await storedEntry(deliveryKey(DELIVERY_ID));
    expect(record?.value).toMatchObject({ version: 2, id: DELIVERY_ID, attempts: 2, state: "done" });
    expect(record?.value.decisions.map((d: any) => d.outcome)).toEqual(["created", "created"]);
    const index = (await keysUnder(DELIVERY_INDEX_PREFIX)).filter((key) => key.name.endsWith(`:${DELIVERY_ID}`));
    expect(index).toEqual([
      { name: releaseOne.deliveryIndexEntry.key, metadata: expect.objectContaining({ version: 2, state: "done", outcomes: ["created"] }) },
    ]);
    expect((await get(`/v1/deliveries/${DELIVERY_ID}`)).json).toMatchObject({ state: "done", attempts: 2 });
  });

  it("the dead-letter consumer keeps a message as 0.1.0 queued it, and marks 0.1.0's record dead-lettered in this release's version", async () => {
    mockDexApi();
    await releaseOneDelivery();
    const result = await runDeadLetterConsumer([releaseOne.queueMessage]);
    expect(result.explicitAcks).toEqual(["dlq-0"]);

    const { dead_letters } = await listDeadLetters();
    expect(dead_letters).toEqual([
      expect.objectContaining({ delivery_id: DELIVERY_ID, source: "zapier", alerts: 1, reason: "device lookup failed: DEX API 503: unavailable" }),
    ]);
    expect((await get(`/v1/dead-letters/${dead_letters[0]!.id}`)).json.message).toEqual(CURRENT_MESSAGE);
    expect((await storedEntry(deliveryKey(DELIVERY_ID)))?.value).toMatchObject({ version: 2, state: "dead-lettered", attempts: 1 });
  });

  it("the consumer uses the device search 0.1.0 cached, without asking the DEX API again", async () => {
    const api = mockDexApi();
    await putAsWritten(releaseOne.deviceCache);
    await runConsumer([releaseOne.queueMessage]);
    expect(api.callsTo("devices")).toEqual([]);
    expect(api.commands.map((c) => c.device_id)).toEqual([JANE.deviceId, JANE.deviceId]);
  });

  it("ingest answers a redelivery whose id 0.1.0 remembered as a duplicate, and remembers new ones in this release's version", async () => {
    mockDexApi();
    await putAsWritten(releaseOne.redelivery);
    const pagerDuty = JSON.parse(freshPagerDuty(triggeredFixture));
    const webhookId = releaseOne.redelivery.key.split(":").at(-1)!;
    const duplicate = await postPagerDuty(pagerDuty, { "x-webhook-id": webhookId });
    expect(duplicate.status).toBe(200);
    expect(duplicate.json).toMatchObject({ status: "duplicate", delivery_id: releaseOne.redelivery.value });
    expect(duplicate.queued).toEqual([]);

    const fresh = await postPagerDuty(pagerDuty, { "x-webhook-id": "0c9d7e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f" });
    expect(fresh.status).toBe(202);
    await vi.waitFor(async () =>
      expect(await storedEntry(redeliveryKey("pagerduty", "0c9d7e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f"))).toEqual({
        value: fresh.json.delivery_id,
        metadata: { version: 2 },
      }),
    );
  });
});
