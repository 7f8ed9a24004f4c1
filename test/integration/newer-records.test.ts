import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliveryKey, devicesKey } from "../../src/model/kv-keys";
import { listDeadLetters, replay, runDeadLetterConsumer } from "../helpers/dead-letters";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { putAsWritten, releaseOne, storedEntry } from "../helpers/release-0.1.0";
import { isolateEachTest, postZapier, RELAY, rulesSentAtOnce, runConsumer as runWithRules } from "../helpers/relay";

/**
 * What a newer release may leave in KV for this one to find after a rollback: records of a
 * version this release does not know. None may break a page, be overwritten by a guess, or
 * be answered with a 5xx that a retry cannot fix.
 */

const ADMIN = { authorization: "Bearer admin-test-token" };
const NEWER = 3;
/** Messages: versions 2 and 3 are this release's own (3 carries a capture on demand). */
const NEWER_MESSAGE = 4;
const DELIVERY_ID = releaseOne.queueMessage.delivery_id;
/** Another delivery's id, for a second record of the same shape. */
const OTHER_ID = "0d2e4f6a-8b1c-4d3e-9f5a-7b9c1d3e5f70";

async function get(path: string) {
  const res = await exports.default.fetch(`${RELAY}${path}`, { headers: ADMIN });
  return { status: res.status, json: await res.json<Record<string, any>>() };
}

/** Delivery `id` recorded by a newer release: the record of a version this release does not know, its index entry in `indexVersion`. */
async function newerDelivery(id: string, indexVersion: number) {
  const { key, value } = releaseOne.deliveryRecord;
  await putAsWritten({ key: key.replace(DELIVERY_ID, id), value: { version: NEWER, ...value, id } });
  const index = releaseOne.deliveryIndexEntry;
  await putAsWritten({ ...index, key: index.key.replace(DELIVERY_ID, id), metadata: { version: indexVersion, ...index.metadata, id } });
}

/** 0.1.0's dead letter, as a newer release would have kept it. */
async function newerDeadLetter() {
  const { key, value, metadata } = releaseOne.deadLetter;
  await putAsWritten({ key, value: { version: NEWER, ...value }, metadata: { version: NEWER, ...metadata } });
}

/** The consumer with the rules as release 0.1.0 shipped them: none waits for an approval. */
function runConsumer(bodies: readonly unknown[], attempts = 1) {
  return runWithRules(bodies, attempts, { RULES: rulesSentAtOnce() });
}

isolateEachTest();

describe("records of a newer release", () => {
  it("GET /v1/deliveries lists what it reads and names what it cannot, from the index entry or the record", async () => {
    mockDexApi();
    const { json: queued, queued: messages } = await postZapier({ id: "now-1", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
    await runConsumer(messages);
    await newerDelivery(DELIVERY_ID, NEWER);
    await newerDelivery(OTHER_ID, 2);

    const { status, json } = await get("/v1/deliveries");
    expect(status).toBe(200);
    expect(json.deliveries.map((d: any) => d.delivery_id)).toContain(queued.delivery_id);
    expect(json.deliveries.map((d: any) => d.delivery_id)).not.toContain(DELIVERY_ID);
    expect(json.unreadable).toEqual(
      expect.arrayContaining([
        { delivery_id: DELIVERY_ID, error: "delivery index entry version 3 is not one this release reads (it reads 1, 2)" },
        { delivery_id: OTHER_ID, error: "delivery record version 3 is not one this release reads (it reads 1, 2)" },
      ]),
    );
    expect(json.unreadable).toHaveLength(2);
  });

  it("GET /v1/deliveries/{id} answers 409 saying why, and a retry answers the same", async () => {
    mockDexApi();
    await newerDelivery(DELIVERY_ID, NEWER);
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await get(`/v1/deliveries/${DELIVERY_ID}`)).toEqual({
        status: 409,
        json: { error: "this release cannot read the record of this delivery: delivery record version 3 is not one this release reads (it reads 1, 2)" },
      });
    }
  });

  it("a dead letter is named in the listing, answers 409 to a read or a replay, queues nothing, and is kept as it is", async () => {
    mockDexApi();
    await newerDeadLetter();
    const { id } = releaseOne.deadLetter.value;
    expect(await listDeadLetters()).toEqual({
      dead_letters: [],
      cursor: null,
      unreadable: [{ id, error: "dead-letter summary version 3 is not one this release reads (it reads 1, 2)" }],
    });
    expect(await get(`/v1/dead-letters/${id}`)).toEqual({
      status: 409,
      json: { error: "this release cannot read this dead letter: dead letter version 3 is not one this release reads (it reads 1, 2)" },
    });
    const replayed = await replay(id);
    expect(replayed.status).toBe(409);
    expect(replayed.sent).toEqual([]);
    expect((await storedEntry(releaseOne.deadLetter.key))?.value.version).toBe(NEWER);
  });

  it("the dead-letter consumer, brought the same message again, leaves the newer dead letter as it is", async () => {
    mockDexApi();
    await newerDeadLetter();
    // The queue message id and time the dead letter's id stands for.
    const result = await runDeadLetterConsumer([releaseOne.queueMessage], ["0f5a3c1e9b7d4e2a8c6f1b3d5e7a9c2b"], new Date("2026-11-25T09:03:30.000Z"));
    expect(result.explicitAcks).toEqual(["0f5a3c1e9b7d4e2a8c6f1b3d5e7a9c2b"]);
    expect((await storedEntry(releaseOne.deadLetter.key))?.value).toEqual({ version: NEWER, ...releaseOne.deadLetter.value });
  });

  it("the dead-letter consumer leaves a delivery record it cannot read as it is, and says so in the dead letter", async () => {
    mockDexApi();
    await newerDelivery(DELIVERY_ID, NEWER);
    await runDeadLetterConsumer([releaseOne.queueMessage]);
    expect((await storedEntry(deliveryKey(DELIVERY_ID)))?.value).toMatchObject({ version: NEWER, state: "retrying" });
    const [letter] = (await listDeadLetters()).dead_letters;
    expect(letter).toMatchObject({
      delivery_id: DELIVERY_ID,
      reason: expect.stringContaining("its record cannot be read by this release (delivery record version 3"),
    });
  });

  it("a queue message of a newer release that dead-letters is kept as it came, for that release to replay, and this one refuses to", async () => {
    mockDexApi();
    const newer = { ...releaseOne.queueMessage, version: NEWER_MESSAGE };
    await runDeadLetterConsumer([newer]);
    const [letter] = (await listDeadLetters()).dead_letters;
    expect(letter).toMatchObject({
      alerts: 0,
      reason: "not a delivery this release can replay: message version 4 is not one this release reads (it reads 1, 2, 3)",
    });
    expect((await storedEntry(`dead-letter:${letter!.id}`))?.value).toMatchObject({ version: 2, newer_message: newer });
    // Kept, not shown: this release cannot say what it holds.
    expect((await get(`/v1/dead-letters/${letter!.id}`)).json).not.toHaveProperty("newer_message");
    const replayed = await replay(letter!.id);
    expect(replayed).toMatchObject({ status: 409, json: { error: expect.stringContaining("a message of a newer release") }, sent: [] });
  });

  it("the console names what it cannot read and shows the rest", async () => {
    mockDexApi();
    await newerDelivery(DELIVERY_ID, NEWER);
    await newerDeadLetter();
    const res = await exports.default.fetch(`${RELAY}/console`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`This release cannot read delivery ${DELIVERY_ID}, dead letter ${releaseOne.deadLetter.value.id}`);
    expect(html).toContain('id="rule-tester"');
  });

  it("a cached device search it cannot read is looked up again, and replaced in this release's version", async () => {
    const api = mockDexApi();
    const key = await devicesKey("0123456789abcdef0123456789abcdef", JANE.personEmail!);
    expect(key).toBe(releaseOne.deviceCache.key);
    await putAsWritten({ key, value: { devices: releaseOne.deviceCache.value, page: 1 }, metadata: { version: NEWER } });
    await runConsumer([releaseOne.queueMessage]);
    expect(api.callsTo("devices").length).toBeGreaterThan(0);
    expect(api.commands).toHaveLength(2);
    expect(await storedEntry(key)).toEqual({ value: [expect.objectContaining({ deviceId: JANE.deviceId })], metadata: { version: 2 } });
  });
});
