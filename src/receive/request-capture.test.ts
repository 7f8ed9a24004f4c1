import { describe, expect, it } from "vitest";
import { HTTPException } from "hono/http-exception";
import { compileRules } from "../../test/helpers/fakes";
import type { DeliveryMessage } from "../model/delivery-message";
import { requestCapture, type CaptureAsk } from "./request-capture";

const rules = compileRules(
  [
    { name: "warp-diag-on-critical", command: { type: "warp-diag" }, match: { severity: ["critical"] } },
    { name: "warp-diag-on-demand", command: { type: "warp-diag" }, match: { source: "operator", title: "/for (?<user_email>\\S+@\\S+)/" } },
    { name: "pcap-on-demand", command: { type: "pcap" }, match: { source: ["zapier", "operator"] } },
  ],
  ["zapier"],
);

/** A queue that keeps what it is sent, or refuses it. */
function queue(refuse = false) {
  const sent: DeliveryMessage[] = [];
  return {
    sent,
    ALERT_QUEUE: {
      async send(body: unknown) {
        if (refuse) throw new Error("Queue is overloaded");
        sent.push(body as DeliveryMessage);
      },
    } as unknown as Queue,
  };
}

const ask: CaptureAsk = { rule: "warp-diag-on-demand", target: { user_email: "jane.doe@example.com" }, requested_by: "oncall@example.com", via: "console" };

async function refusal(input: CaptureAsk): Promise<{ status: number; message: string; queued: number }> {
  const env = queue();
  const error = await requestCapture(env, { rules }, input).catch((e: unknown) => e);
  if (!(error instanceof HTTPException)) throw new Error("expected a refusal");
  return { status: error.status, message: error.message, queued: env.sent.length };
}

describe("requestCapture", () => {
  it("queues one delivery from operator with one alert that names the rule, the target and who asked", async () => {
    const env = queue();
    const answer = await requestCapture(
      env,
      { rules },
      { ...ask, incident: { id: "Q1ABC", title: "VPN down", url: "https://acme.pagerduty.com/incidents/Q1ABC" } },
      new Date("2026-11-25T09:00:00Z"),
    );
    expect(answer).toEqual({ status: "queued", delivery_id: expect.any(String), rule: "warp-diag-on-demand", requested_by: "oncall@example.com" });
    expect(env.sent).toEqual([
      {
        version: 3,
        delivery_id: answer.delivery_id,
        source: "operator",
        received_at: "2026-11-25T09:00:00.000Z",
        alerts: [
          {
            source: "operator",
            episode: `operator:${answer.delivery_id}`,
            title: "VPN down",
            firing: true,
            status: "requested",
            labels: { via: "console" },
            target: { user_email: "jane.doe@example.com" },
            refs: { incident_id: "Q1ABC", incident_url: "https://acme.pagerduty.com/incidents/Q1ABC" },
            request: { rule: "warp-diag-on-demand", requested_by: "oncall@example.com", via: "console" },
          },
        ],
      },
    ]);
  });

  it("makes each request its own episode, unless it carries the same idempotency key as one before", async () => {
    const env = queue();
    await requestCapture(env, { rules }, ask);
    await requestCapture(env, { rules }, ask);
    await requestCapture(env, { rules }, { ...ask, idempotency_key: " Retry-1 " });
    await requestCapture(env, { rules }, { ...ask, idempotency_key: "retry-1" });
    const episodes = env.sent.map((m) => m.alerts[0]!.episode);
    expect(new Set(episodes.slice(0, 2)).size).toBe(2);
    expect(episodes.slice(2)).toEqual(["operator:console:retry-1", "operator:console:retry-1"]);
  });

  it("takes the target from the incident title when none is given, with the rule's title pattern", async () => {
    const env = queue();
    await requestCapture(env, { rules }, { ...ask, target: undefined, incident: { id: "Q1ABC", title: "VPN packet loss for sam.lee@example.com" } });
    expect(env.sent[0]!.alerts[0]!.target).toEqual({ user_email: "sam.lee@example.com" });
  });

  it("refuses with the field that is wrong, and queues nothing", async () => {
    expect(await refusal({ ...ask, rule: "no-such-rule" })).toEqual({ status: 400, message: "rule: no rule in RULES has this name", queued: 0 });
    expect(await refusal({ ...ask, rule: "warp-diag-on-critical" })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^rule: warp-diag-on-critical does not allow captures on demand/),
    });
    expect(await refusal({ ...ask, target: { user_email: "not an email" } })).toMatchObject({
      status: 400,
      message: "target.user_email: Invalid email address",
    });
    expect(await refusal({ ...ask, target: { device_id: "6f1c2d4e" } })).toMatchObject({ status: 400, message: expect.stringMatching(/^target: /) });
    expect(await refusal({ ...ask, target: undefined })).toMatchObject({
      status: 400,
      message: "target: name the device by user_email, hostname, or device_id with user_email",
    });
    expect(await refusal({ ...ask, rule: "pcap-on-demand", target: undefined, incident: { id: "Q1", title: "for jane@example.com" } })).toMatchObject({
      message: expect.stringMatching(/^target: /),
    });
    expect(await refusal({ ...ask, incident: { id: "../../users" } })).toMatchObject({ status: 400, message: expect.stringMatching(/^incident\.id: /) });
    expect(await refusal({ ...ask, requested_by: " " })).toMatchObject({ status: 400, message: expect.stringMatching(/^requested_by: /) });
  });

  it("answers 503 when the queue refuses the delivery, so the caller may retry", async () => {
    const error = await requestCapture(queue(true), { rules }, ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPException);
    expect((error as HTTPException).status).toBe(503);
  });
});
