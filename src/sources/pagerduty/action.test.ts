/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { signPagerDuty } from "../../../test/helpers/sign";
import { readPagerDutyAction, verifyPagerDutyAction } from "./action";
import asEvent from "./action-fixtures/custom-action.event.json?raw";
import asMessages from "./action-fixtures/custom-action.messages.json?raw";

const SECRET = "pd-action-test-secret";
const bytes = (text: string) => new TextEncoder().encode(text);

async function verdict(headers: Record<string, string>, body = "{}", secrets = SECRET) {
  try {
    await verifyPagerDutyAction(bytes(body), new Headers(headers), { ...env, PAGERDUTY_ACTION_SECRET: secrets });
    return "accepted";
  } catch (error) {
    if (error instanceof HTTPException) return `${error.status} ${error.message}`;
    throw error;
  }
}

describe("verifyPagerDutyAction", () => {
  it("accepts the secret as a bearer token, or a v3 signature made with it, one of several during a rotation", async () => {
    expect(await verdict({ authorization: `Bearer ${SECRET}` })).toBe("accepted");
    expect(await verdict({ authorization: `Bearer ${SECRET}` }, "{}", `old-secret, ${SECRET}`)).toBe("accepted");
    expect(await verdict({ "x-pagerduty-signature": await signPagerDuty(asEvent, SECRET) }, asEvent)).toBe("accepted");
  });

  it("refuses everything else, and everything while the secret is unset", async () => {
    expect(await verdict({})).toBe("401 missing X-PagerDuty-Signature or Authorization: Bearer header");
    expect(await verdict({ authorization: "Bearer wrong" })).toBe("401 invalid bearer token");
    expect(await verdict({ authorization: SECRET })).toBe("401 missing X-PagerDuty-Signature or Authorization: Bearer header");
    // A signature is judged alone: a right bearer token does not make a wrong signature right.
    expect(await verdict({ "x-pagerduty-signature": await signPagerDuty(`${asEvent} `, SECRET), authorization: `Bearer ${SECRET}` }, asEvent)).toBe(
      "401 signature does not match",
    );
    expect(await verdict({ authorization: `Bearer ${SECRET}` }, "{}", " ")).toBe("401 PagerDuty actions are disabled: PAGERDUTY_ACTION_SECRET is not set");
  });
});

describe("readPagerDutyAction", () => {
  it("reads a workflow's web request written with the relay's own fields", () => {
    const body = JSON.stringify({
      rule: "warp-diag-on-demand",
      user_email: "jane.doe@example.com",
      incident_id: "Q1",
      incident_title: "VPN down",
      incident_url: "https://acme.pagerduty.com/incidents/Q1",
      requested_by: "Priya Raman",
    });
    expect(readPagerDutyAction(body, {}, null)).toEqual({
      rule: "warp-diag-on-demand",
      target: { user_email: "jane.doe@example.com" },
      incident: { id: "Q1", title: "VPN down", url: "https://acme.pagerduty.com/incidents/Q1" },
      requested_by: "Priya Raman",
      redelivery_id: undefined,
    });
  });

  it.each([
    ["a custom incident action's messages", asMessages, "7a8c1d0e-52f3-11f1-9c3b-0242ac130003"],
    ["a v3 webhook's event", asEvent, "01DEN9QXW3B2C4D5E6F7G8H9J0"],
  ])("reads the incident and the user who acted from %s, the rule and target from the query string", (_, body, id) => {
    expect(readPagerDutyAction(body, { rule: "warp-diag-on-demand", hostname: "JANE-MBP" }, null)).toEqual({
      rule: "warp-diag-on-demand",
      target: { hostname: "JANE-MBP" },
      incident: {
        id: "Q2Y4RWZ6E8TJ1K",
        title: "VPN packet loss above 8% for jane.doe@example.com",
        url: "https://acme.pagerduty.com/incidents/Q2Y4RWZ6E8TJ1K",
      },
      requested_by: "Priya Raman (PagerDuty)",
      redelivery_id: id,
    });
    // PagerDuty's own X-Webhook-Id, the same on every retry, names the delivery first.
    expect(readPagerDutyAction(body, {}, "wh-1").redelivery_id).toBe("wh-1");
  });

  it("names the action itself when no user is given, and reads an empty body", () => {
    expect(readPagerDutyAction("", { rule: "pcap-on-demand", user_email: "jane.doe@example.com" }, null)).toEqual({
      rule: "pcap-on-demand",
      target: { user_email: "jane.doe@example.com" },
      requested_by: "pagerduty action",
      redelivery_id: undefined,
    });
  });

  it("refuses two values for one field, a field of the wrong type and a body that is not an object, naming the field", () => {
    const refusal = (body: string, query: Record<string, string> = {}) => {
      try {
        readPagerDutyAction(body, query, null);
      } catch (error) {
        return error instanceof HTTPException ? `${error.status} ${error.message}` : String(error);
      }
      return "read";
    };
    expect(refusal('{"rule":"pcap-on-demand"}', { rule: "warp-diag-on-demand" })).toBe("400 rule: the query string and the body give two different values");
    expect(refusal('{"rule":"pcap-on-demand"}', { rule: "pcap-on-demand" })).toBe("read");
    expect(refusal('{"user_email":42}')).toMatch(/^400 user_email: /);
    expect(refusal("[1]")).toBe("400 body must be a JSON object");
    expect(refusal("{not json")).toBe("400 body is not valid JSON");
  });
});
