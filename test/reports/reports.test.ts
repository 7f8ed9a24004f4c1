import { beforeEach, describe, expect, it } from "vitest";
import { JANE, mockDexApi, SAM } from "../helpers/dex-api-mock";
import { advanceClock, currentDelivery, holdLedgerClock, runLedgerAlarm } from "../helpers/ledger";
import {
  alarmAndReports,
  expectedSignature,
  PAGERDUTY_API,
  postIncident,
  reportsSettled,
  RESULT_WEBHOOK,
  runReportingConsumer,
  SLACK_HOOK,
} from "../helpers/reports";
import { isolateEachTest, postZapier, rulesSentAtOnce } from "../helpers/relay";

const INCIDENT = "Q2Y4RWZ6E8TJ1K";
const NOTES = `POST ${PAGERDUTY_API}/incidents/${INCIDENT}/notes`;
const SLACK = `POST ${SLACK_HOOK}`;
const WEBHOOK = `POST ${RESULT_WEBHOOK}`;

/**
 * These tests are about how reports travel: the shipped rules with every command sent at once
 * (reports about approvals: ./approvals.test.ts).
 */
function runConsumer(bodies: readonly unknown[], attempts = 1, overrides: Record<string, unknown> = {}) {
  return runReportingConsumer(bodies, attempts, { RULES: rulesSentAtOnce(), ...overrides });
}

type Answer = () => Response | Promise<Response>;

/** The DEX API plus the three receivers, each answering as told (2xx unless a test says otherwise). */
function receivers(answers: { notes?: Answer; slack?: Answer; webhook?: Answer } = {}) {
  const api = mockDexApi([JANE, SAM], {
    [NOTES]: answers.notes ?? (() => Response.json({ note: { id: "PWL7QXS" } }, { status: 201 })),
    [SLACK]: answers.slack ?? (() => new Response("ok")),
    [WEBHOOK]: answers.webhook ?? (() => new Response(null, { status: 204 })),
  });
  const to = (key: string) => api.otherCalls.filter((r) => `${r.method} ${r.url}` === key);
  return { api, notes: () => to(NOTES), slack: () => to(SLACK), webhook: () => to(WEBHOOK) };
}

/** A PagerDuty incident about Jane: a pcap and a warp-diag on JANE-MBP. */
async function startIncident() {
  const { status, json, queued } = await postIncident(INCIDENT, "VPN packet loss above 8% for jane.doe@example.com");
  expect(status).toBe(202);
  await runConsumer(queued);
  return json.delivery_id as string;
}

/** Runs alarms (the clock moving to each) until `done` holds, at most `max` of them. */
async function alarmsUntil(done: () => boolean | Promise<boolean>, max = 50) {
  for (let i = 0; i < max && !(await done()); i++) await alarmAndReports();
}

function finish(api: ReturnType<typeof mockDexApi>, status: "SUCCESS" | "FAILED") {
  for (const command of api.commands) {
    api.settle(command.id, status, status === "SUCCESS" ? `${command.type}-${command.id}.zip` : null);
  }
}

isolateEachTest();
beforeEach(holdLedgerClock);

describe("reports when commands start", () => {
  it("writes one note on the PagerDuty incident, with the exact request PagerDuty expects", async () => {
    const { api, notes } = receivers();
    await startIncident();
    expect(api.commands).toHaveLength(2);
    await alarmAndReports();

    expect(notes()).toHaveLength(1);
    const note = notes()[0]!;
    expect(note.headers.get("authorization")).toBe("Token token=pd-rest-test-token");
    expect(note.headers.get("from")).toBe("dex-relay@example.com");
    expect(note.headers.get("content-type")).toBe("application/json");
    expect(await note.json()).toEqual({
      note: { content: "pcap and warp-diag started on JANE-MBP (jane.doe@example.com) by rules vpn-packet-loss-pcap and warp-diag-on-critical." },
    });
  });

  it("posts a readable Slack message with Block Kit, the title escaped", async () => {
    const { slack } = receivers();
    const { queued } = await postZapier({ id: "T-1", title: "Calls <freeze> & drop", severity: "critical", user_email: SAM.personEmail });
    await runConsumer(queued);
    await alarmAndReports();
    expect(slack()).toHaveLength(1);
    const message = await slack()[0]!.json<Record<string, any>>();
    expect(message.text).toContain("warp-diag started on SAM-XPS13 (sam.lee@example.com) by rule warp-diag-on-critical.");
    expect(message.blocks[0]).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: "warp-diag started on SAM-XPS13 (sam.lee@example.com) by rule warp-diag-on-critical." },
    });
    expect(message.blocks[1].elements[0].text).toContain("Calls &lt;freeze&gt; &amp; drop");
  });

  it("signs each result-webhook event per Standard Webhooks, one event per command", async () => {
    const { api, webhook } = receivers();
    const deliveryId = await startIncident();
    await alarmAndReports();
    expect(webhook()).toHaveLength(2);
    for (const request of webhook()) {
      const body = await request.text();
      const id = request.headers.get("webhook-id")!;
      const timestamp = request.headers.get("webhook-timestamp")!;
      expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
      expect(request.headers.get("webhook-signature")).toBe(await expectedSignature(id, timestamp, body));
      const event = JSON.parse(body);
      expect(event).toMatchObject({
        type: "command.created",
        timestamp: expect.any(String),
        data: {
          status: "PENDING_EXEC",
          device_id: JANE.deviceId,
          device_name: "JANE-MBP",
          user_email: JANE.personEmail,
          delivery_id: deliveryId,
          source: "pagerduty",
          alert_title: "VPN packet loss above 8% for jane.doe@example.com",
        },
      });
      expect(api.commands.map((c) => c.id)).toContain(event.data.command_id);
    }
  });

  it("writes to PagerDuty only for alerts that came from PagerDuty", async () => {
    const { notes, slack } = receivers();
    const { queued } = await postZapier({ id: "T-2", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    await runConsumer(queued);
    await alarmAndReports();
    expect(notes()).toHaveLength(0);
    expect(slack()).toHaveLength(1);
  });

  it("sends only to the channels a rule's notify names", async () => {
    const { notes, slack, webhook } = receivers();
    const rules = [{ name: "webhook-only", notify: ["webhook"], match: { title: "/for (?<user_email>\\S+@\\S+)/" }, command: { type: "warp-diag" } }];
    const { queued } = await postIncident(INCIDENT, "Packet loss for jane.doe@example.com");
    await runConsumer(queued, 1, { RULES: rules });
    await alarmAndReports();
    expect([notes().length, slack().length, webhook().length]).toEqual([0, 0, 1]);
  });
});

describe("reports when commands finish", () => {
  it("reports SUCCESS with a download link, within one status poll", async () => {
    const { api, notes, webhook } = receivers();
    await startIncident();
    await alarmAndReports();
    finish(api, "SUCCESS");
    const before = Date.now();
    await alarmAndReports();
    // The poll that saw it finish sent the reports in the same pass: well inside 30 s.
    expect(Date.now() - before).toBeLessThanOrEqual(20_000);

    const finished = await Promise.all(
      notes()
        .slice(1)
        .map((r) => r.json<{ note: { content: string } }>()),
    );
    expect(finished).toHaveLength(2);
    const pcap = api.commands.find((c) => c.type === "pcap")!;
    expect(finished.map((n) => n.note.content)).toContain(
      `pcap on JANE-MBP (jane.doe@example.com) (rule vpn-packet-loss-pcap) finished: SUCCESS. Download (operators only): https://relay.test/v1/commands/${pcap.id}/download`,
    );
    const events = await Promise.all(
      webhook()
        .slice(2)
        .map((r) => r.json<Record<string, any>>()),
    );
    expect(events.map((e) => e.type)).toEqual(["command.finished", "command.finished"]);
    expect(events.find((e) => e.data.command_id === pcap.id)?.data).toMatchObject({
      status: "SUCCESS",
      filename: pcap.filename,
      download_url: `https://relay.test/v1/commands/${pcap.id}/download`,
    });
  });

  it("reports a FAILED capture as failed, without a link", async () => {
    const { api, slack } = receivers();
    const { queued } = await postZapier({ id: "T-3", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    await runConsumer(queued);
    await alarmAndReports();
    finish(api, "FAILED");
    await alarmAndReports();
    const finished = await slack()[1]!.json<Record<string, any>>();
    expect(finished.text).toMatch(
      /warp-diag on SAM-XPS13 \(sam\.lee@example\.com\) \(rule warp-diag-on-critical\) finished: FAILED\. DEX reported the command as FAILED/,
    );
    expect(finished.text).not.toContain("/download");
  });
});

describe("each report is delivered once", () => {
  it("retries a 5xx with backoff, and sends nothing else twice", async () => {
    let slackCalls = 0;
    const { notes, slack, webhook } = receivers({ slack: () => (++slackCalls === 1 ? new Response("oops", { status: 500 }) : new Response("ok")) });
    const deliveryId = await startIncident();
    await alarmAndReports();
    expect(slack()).toHaveLength(1);
    const pending = (await currentDelivery(deliveryId)).reports.find((r: any) => r.channel === "slack");
    expect(pending).toMatchObject({ state: "pending", attempts: 1, reason: "slack answered HTTP 500; retrying in 10 s" });

    await alarmAndReports();
    expect(slack()).toHaveLength(2);
    expect(notes()).toHaveLength(1);
    expect(webhook()).toHaveLength(2);
    const sent = (await currentDelivery(deliveryId)).reports;
    expect(sent.every((r: any) => r.state === "sent")).toBe(true);
  });

  it("honours Retry-After on a 429", async () => {
    let calls = 0;
    const { notes } = receivers({
      notes: () => (++calls === 1 ? new Response(null, { status: 429, headers: { "retry-after": "45" } }) : Response.json({}, { status: 201 })),
    });
    const deliveryId = await startIncident();
    const before = Date.now();
    await alarmAndReports();
    expect((await currentDelivery(deliveryId)).reports.find((r: any) => r.channel === "incident")?.reason).toContain("retrying in 45 s");
    await alarmsUntil(() => notes().length === 2);
    expect(notes()).toHaveLength(2);
    expect(Date.now() - before).toBeGreaterThanOrEqual(45_000);
  });

  it("a receiver that is down for an hour still gets its report once it is back", async () => {
    const start = Date.now();
    const { api, webhook } = receivers({ webhook: () => new Response(null, { status: Date.now() < start + 3600_000 ? 503 : 200 }) });
    const deliveryId = await startIncident();
    finish(api, "SUCCESS");
    const webhookStates = async () => (await currentDelivery(deliveryId)).reports.filter((r: any) => r.channel === "webhook").map((r: any) => r.state);
    await alarmsUntil(async () => {
      const states = await webhookStates();
      return states.length === 4 && states.every((s: string) => s === "sent");
    });
    expect(await webhookStates()).toEqual(["sent", "sent", "sent", "sent"]);
    expect(Date.now()).toBeGreaterThanOrEqual(start + 3600_000);
    // Every event keeps its id across retries, so the receiver can drop a repeat.
    const ids = new Set(webhook().map((r) => r.headers.get("webhook-id")));
    expect(ids.size).toBe(4);
    expect(webhook().length).toBeGreaterThan(4);
  });

  it("records a 4xx as failed, with the reason, in the delivery's audit record, and does not retry it", async () => {
    const { webhook } = receivers({ webhook: () => new Response("gone", { status: 410 }) });
    const deliveryId = await startIncident();
    await alarmAndReports();
    advanceClock(3600_000);
    await alarmAndReports();
    expect(webhook()).toHaveLength(2);
    const failed = (await currentDelivery(deliveryId)).reports.filter((r: any) => r.channel === "webhook");
    expect(failed).toEqual([
      expect.objectContaining({ state: "failed", reason: "webhook answered HTTP 410", event: "command.created" }),
      expect.objectContaining({ state: "failed", reason: "webhook answered HTTP 410", event: "command.created" }),
    ]);
  });

  it("a redelivered queue message and two alarms at once send each report once", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { notes } = receivers({
      notes: async () => {
        await held;
        return Response.json({}, { status: 201 });
      },
    });
    const { queued } = await postIncident(INCIDENT, "VPN packet loss above 8% for jane.doe@example.com");
    await runConsumer(queued);
    await runConsumer(queued, 2);
    // The first alarm's note is still in flight when the second alarm runs.
    await runLedgerAlarm();
    advanceClock(5_000);
    await runLedgerAlarm();
    release();
    await reportsSettled();
    expect(notes()).toHaveLength(1);
  });

  it("a report that cannot be delivered never holds up a capture's retry", async () => {
    const { api } = receivers({ slack: () => new Promise<Response>(() => undefined) });
    await startIncident();
    const start = Date.now();
    const { queued } = await postZapier({ id: "T-4", title: "Disk latency", severity: "critical", user_email: SAM.personEmail });
    api.failNext("create", () => Response.json({ success: false, errors: [{ code: 1, message: "internal" }] }, { status: 500 }));
    await runConsumer(queued);
    // The alarm whose Slack post hangs has returned; the retry 2 s later runs all the same.
    const samCommands = () => api.commands.filter((c) => c.device_id === SAM.deviceId);
    for (let i = 0; i < 5 && samCommands().length === 0; i++) await runLedgerAlarm();
    expect(samCommands()).toHaveLength(1);
    expect(Date.now() - start).toBeLessThan(10_000);
  });
});
