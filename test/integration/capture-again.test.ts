import { env } from "cloudflare:workers";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it, vi } from "vitest";
import { captureAgain } from "../../src/admin/capture-again";
import { loadConfig, type RelayConfig } from "../../src/config/settings";
import type { DeliveryMessage } from "../../src/model/delivery-message";
import { SOURCE_NAMES } from "../../src/sources/registry";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { advanceClock } from "../helpers/ledger";
import { deliveryRecord, isolateEachTest, post, postZapier, runConsumer } from "../helpers/relay";

function config(): RelayConfig {
  const loaded = loadConfig(env, SOURCE_NAMES);
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.config;
}

/** Runs captureAgain as a Slack button's handler would, keeping what it queues. */
async function again(commandId: string) {
  const queued: DeliveryMessage[] = [];
  vi.spyOn(env.ALERT_QUEUE, "send").mockImplementation(async (body) => {
    queued.push(body as DeliveryMessage);
    return {} as QueueSendResponse;
  });
  try {
    return { answer: await captureAgain(env, config(), { command_id: commandId, requested_by: "priya (Slack)", via: "slack" }), queued };
  } catch (error) {
    if (!(error instanceof HTTPException)) throw error;
    return { refused: `${error.status} ${error.message}`, queued };
  } finally {
    vi.mocked(env.ALERT_QUEUE.send).mockRestore();
  }
}

isolateEachTest();

describe("captureAgain (Slack's Capture again)", () => {
  it("runs a command the relay made once more: same rule, same device and registration, same incident", async () => {
    const api = mockDexApi();
    const { queued } = await post("/v1/actions/pagerduty", {
      headers: { "content-type": "application/json", authorization: `Bearer ${env.PAGERDUTY_ACTION_SECRET}` },
      body: JSON.stringify({ rule: "warp-diag-on-demand", user_email: JANE.personEmail, incident_id: "Q2Y4RWZ6E8TJ1K", incident_title: "Calls keep freezing" }),
    });
    await runConsumer(queued);
    const first = api.commands[0]!;

    advanceClock(11 * 60_000);
    const { answer, queued: again1 } = await again(first.id);
    expect(answer).toMatchObject({ status: "queued", rule: "warp-diag-on-demand", requested_by: "priya (Slack)" });
    expect(again1[0]!.alerts[0]).toMatchObject({
      target: { device_id: JANE.deviceId, user_email: JANE.personEmail, registration_id: JANE.registrationId },
      refs: { incident_id: "Q2Y4RWZ6E8TJ1K" },
      request: { rule: "warp-diag-on-demand", requested_by: "priya (Slack)", via: "slack" },
    });
    await runConsumer(again1);
    expect(api.callsTo("create")).toHaveLength(2);
    expect((await deliveryRecord(answer!.delivery_id))?.decisions).toEqual([expect.objectContaining({ outcome: "created", device_id: JANE.deviceId })]);
  });

  it("is held by the rule's cooldown like any request", async () => {
    const api = mockDexApi();
    const { queued } = await post("/v1/captures", {
      headers: { "content-type": "application/json", authorization: "Bearer admin-test-token" },
      body: JSON.stringify({ rule: "pcap-on-demand", target: { user_email: JANE.personEmail } }),
    });
    await runConsumer(queued);
    const { answer, queued: soon } = await again(api.commands[0]!.id);
    await runConsumer(soon);
    expect(api.callsTo("create")).toHaveLength(1);
    expect((await deliveryRecord(answer!.delivery_id))?.decisions).toEqual([expect.objectContaining({ outcome: "cooldown" })]);
  });

  it("repeats an alert's command under the on-demand rule of its type, whose cooldown is its own", async () => {
    const api = mockDexApi();
    const { queued } = await postZapier({ id: "A-1", severity: "critical", title: "Calls freezing", user_email: JANE.personEmail });
    await runConsumer(queued);
    const { answer, queued: again1 } = await again(api.commands[0]!.id);
    expect(answer).toMatchObject({ status: "queued", rule: "warp-diag-on-demand" });
    await runConsumer(again1);
    expect(api.callsTo("create")).toHaveLength(2);
  });

  it("refuses a command the relay did not make, and one no rule may repeat on demand", async () => {
    const api = mockDexApi();
    expect(await again("6f1c2d4e-0000-4000-8000-00000000dead")).toEqual({ refused: expect.stringMatching(/^404 no such command/), queued: [] });
    const { queued } = await postZapier({ id: "B-1", severity: "warning", title: "Slow uploads", user_email: JANE.personEmail, check: "bandwidth" });
    await runConsumer(queued);
    const speedTest = api.commands.find((command) => command.type === "speed-test");
    expect(speedTest, "the alert's speed-test").toBeDefined();
    expect(await again(speedTest!.id)).toEqual({ refused: expect.stringMatching(/^400 rule: no rule allows a capture on demand of speed-test/), queued: [] });
  });
});
