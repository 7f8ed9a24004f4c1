/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signPagerDuty } from "../../../test/helpers/sign";
import { expectRefusal, rawDelivery } from "../../../test/sources/adapter-suite";
import { pagerduty } from "./adapter";
import acknowledged from "./fixtures/incident.acknowledged.json?raw";
import triggered from "./fixtures/incident.triggered.json?raw";

const WEBHOOK_ID = "5ac64822-4adc-4fda-ade0-410becf0de4f";
/** A clock shortly after the fixtures' events (2026-03-12), within PagerDuty's retry window. */
const FIXTURE_NOW = new Date("2026-03-12T15:00:00Z");

async function signed(body: string, secret: string = env.PAGERDUTY_WEBHOOK_SECRET, webhookId?: string) {
  const headers: Record<string, string> = { "X-PagerDuty-Signature": await signPagerDuty(body, secret) };
  if (webhookId) headers["X-Webhook-Id"] = webhookId;
  return rawDelivery(body, headers);
}

/** `fixture` with `change` applied to its event, re-serialized as PagerDuty would send it. */
function edited(fixture: string, change: (event: { id: string; event_type: string; data: Record<string, unknown> }) => void) {
  const body = JSON.parse(fixture);
  change(body.event);
  return JSON.stringify(body);
}

describe("pagerduty.verify", () => {
  it("accepts either secret while PAGERDUTY_WEBHOOK_SECRET lists two during a rotation", async () => {
    const rotating = { ...env, PAGERDUTY_WEBHOOK_SECRET: "pd-secret-next, pd-secret-current" } as Env;
    await expect(pagerduty.verify(await signed(triggered, "pd-secret-next"), rotating, new Date())).resolves.toBeUndefined();
    await expect(pagerduty.verify(await signed(triggered, "pd-secret-current"), rotating, new Date())).resolves.toBeUndefined();
  });

  it("says which binding to set when the source is disabled", async () => {
    const disabled = { ...env, PAGERDUTY_WEBHOOK_SECRET: "" } as Env;
    await expectRefusal(pagerduty.verify(await signed(triggered), disabled, new Date()), 401, /^this source is disabled: PAGERDUTY_WEBHOOK_SECRET is not set$/);
  });
});

describe("pagerduty.receive", () => {
  it("takes X-Webhook-Id, the same on every retry, as the redelivery key", async () => {
    const received = await pagerduty.receive(await signed(triggered, undefined, WEBHOOK_ID), FIXTURE_NOW);
    expect(received.redeliveryKey).toBe(WEBHOOK_ID);
  });

  it.each([
    ["P3", "high", "warning"],
    ["SEV-2", "low", "error"],
    ["Business Hours", "high", "critical"],
    ["Business Hours", "low", "warning"],
    [null, "high", "critical"],
    [null, "low", "warning"],
  ])("maps priority %j with urgency %s to %s", async (priority, urgency, severity) => {
    const body = edited(triggered, (event) => {
      event.data.priority = priority === null ? null : { id: "PSO75BM", summary: priority, type: "priority_reference" };
      event.data.urgency = urgency;
    });
    const [alert] = (await pagerduty.receive(await signed(body), FIXTURE_NOW)).alerts;
    expect(alert?.severity).toBe(severity);
  });

  it("leaves the severity unset when neither priority nor urgency says anything", async () => {
    const body = edited(triggered, (event) => {
      event.data.priority = null;
      delete event.data.urgency;
    });
    const [alert] = (await pagerduty.receive(await signed(body), FIXTURE_NOW)).alerts;
    expect(alert?.severity).toBeUndefined();
  });

  it.each(["incident.escalated", "incident.priority_updated", "incident.unacknowledged", "service.updated"])("ignores %s", async (eventType) => {
    const body = edited(acknowledged, (event) => {
      event.event_type = eventType;
    });
    expect(await pagerduty.receive(await signed(body), FIXTURE_NOW)).toEqual({ alerts: [], ignored: `${eventType} does not start a capture` });
  });

  it("keeps the redelivery key of an ignored event so its retries are dropped too", async () => {
    const received = await pagerduty.receive(await signed(acknowledged, undefined, WEBHOOK_ID), FIXTURE_NOW);
    expect(received.redeliveryKey).toBe(WEBHOOK_ID);
  });

  it("has no redelivery key when PagerDuty sent no X-Webhook-Id", async () => {
    expect(await pagerduty.receive(await signed(triggered), FIXTURE_NOW)).not.toHaveProperty("redeliveryKey");
  });

  it("never refuses an event it ignores over fields it does not read", async () => {
    const body = edited(acknowledged, (event) => {
      event.data.assignees = "Priya Raman";
      event.data.title = { text: "not a string" };
    });
    expect((await pagerduty.receive(await signed(body), FIXTURE_NOW)).ignored).toBe("incident.acknowledged does not start a capture");
  });

  it("drops label fields of an unexpected shape instead of refusing the incident", async () => {
    const body = edited(triggered, (event) => {
      event.data.service = "Corporate VPN";
      event.data.priority = { name: "P1" };
      event.data.number = "4812";
      event.data.assignees = null;
    });
    const [alert] = (await pagerduty.receive(await signed(body), FIXTURE_NOW)).alerts;
    expect(alert).toMatchObject({ episode: "pagerduty:q2y4rwz6e8tj1k", severity: "critical", labels: { urgency: "high" } });
    expect(Object.keys(alert?.labels ?? {})).toEqual(["urgency"]);
  });

  it("names the missing event type", async () => {
    const body = edited(triggered, (event) => {
      delete (event as Partial<typeof event>).event_type;
    });
    await expectRefusal(pagerduty.receive(await signed(body), FIXTURE_NOW), 400, /^event\.event_type: /);
  });

  it("does not repeat the offending value in its message", async () => {
    const body = edited(triggered, (event) => {
      event.data.title = ["VPN packet loss above 8% for jane.doe@example.com"];
    });
    const refusal = await expectRefusal(pagerduty.receive(await signed(body), FIXTURE_NOW), 400, /^event\.data\.title: /);
    expect(refusal.message).not.toContain("jane.doe");
  });
});
