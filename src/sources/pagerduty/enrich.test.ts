import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import type { NormalizedAlert } from "../../model/alert";
import { DEFAULT_PAGERDUTY_API_BASE as PAGERDUTY_API_BASE } from "../../config/urls";
import { ENRICH_TIMEOUT_MS, pagerDutyEnricher } from "./enrich";

const TOKEN = "pd-api-test-token";
const INCIDENT_ID = "Q2Y4RWZ6E8TJ1K";
const ALERTS_URL = `${PAGERDUTY_API_BASE}/incidents/${INCIDENT_ID}/alerts?limit=1`;

const withToken = { ...env, PAGERDUTY_API_TOKEN: TOKEN } as Env;

const incidentAlert: NormalizedAlert = {
  source: "pagerduty",
  episode: `pagerduty:${INCIDENT_ID}`,
  title: "VPN packet loss above 8%",
  severity: "critical",
  firing: true,
  status: "triggered",
  labels: { service: "Corporate VPN" },
  target: {},
  refs: { incident_id: INCIDENT_ID, incident_url: `https://acme.pagerduty.com/incidents/${INCIDENT_ID}` },
};

/** One alert of `GET /incidents/{id}/alerts`, as the Events API v2 left it. */
function listedAlert(body: Record<string, unknown>) {
  return {
    id: "Q1R5D6XG0E2V9M",
    type: "alert",
    summary: "VPN packet loss above 8%",
    status: "triggered",
    alert_key: "8c1f5e6a0b2d4c7e9f3a1b5d7e9c2f40",
    created_at: "2026-03-12T09:41:06Z",
    body: { type: "alert_body", contexts: [], ...body },
  };
}

function alertsPage(alerts: unknown[]) {
  return { alerts, limit: 1, offset: 0, more: false, total: null };
}

/** What PagerDuty answers, one fresh Response per call; anything but the expected request throws. */
let answer: (init?: RequestInit) => Response | Promise<Response>;
let fetchSpy: MockInstance<typeof fetch>;
let errors: MockInstance<typeof console.error>;

beforeEach(() => {
  answer = () => Response.json(alertsPage([]));
  fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== ALERTS_URL || (init?.method ?? "GET") !== "GET") throw new Error(`unexpected request: ${url}`);
    return answer(init);
  });
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The failures logged so far, parsed. */
function logged(): unknown[] {
  return errors.mock.calls.map(([line]) => JSON.parse(String(line)));
}

async function enrich(alert: NormalizedAlert = incidentAlert) {
  const enricher = pagerDutyEnricher(withToken);
  expect(enricher).toBeDefined();
  return enricher!(alert);
}

describe("pagerDutyEnricher", () => {
  it.each([undefined, "", "  "])("is undefined, and calls nothing, while PAGERDUTY_API_TOKEN is %j", (token) => {
    expect(pagerDutyEnricher({ ...env, PAGERDUTY_API_TOKEN: token } as unknown as Env)).toBeUndefined();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("reads the device from the custom details of the incident's first alert", async () => {
    answer = () =>
      Response.json(
        alertsPage([
          listedAlert({
            details: {
              device_id: "0f5c2b9e-7a41-4d3c-9e8a-1b2c3d4e5f60",
              user_email: "jane.doe@example.com",
              host: "MBP-JDOE-13",
              loss_percent: 8.4,
            },
          }),
        ]),
      );
    expect(await enrich()).toEqual({
      device_id: "0f5c2b9e-7a41-4d3c-9e8a-1b2c3d4e5f60",
      user_email: "jane.doe@example.com",
      hostname: "MBP-JDOE-13",
    });

    expect(fetchSpy).toHaveBeenCalledTimes(1);
    const init = fetchSpy.mock.calls[0]![1]!;
    const headers = new Headers(init.headers);
    expect(headers.get("Authorization")).toBe(`Token token=${TOKEN}`);
    expect(headers.get("Accept")).toBe("application/json");
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect(errors).not.toHaveBeenCalled();
  });

  it("falls back to the CEF copy of the details, keeping only text", async () => {
    answer = () =>
      Response.json(
        alertsPage([
          listedAlert({
            details: "VPN packet loss above 8% on LT-0442",
            cef_details: { details: { hostname: "LT-0442", registration_id: "reg-7f3a", device_id: 4412, user_email: "  " } },
          }),
        ]),
      );
    expect(await enrich()).toEqual({ hostname: "LT-0442", registration_id: "reg-7f3a" });
  });

  it("finds nothing, and logs nothing, when the incident has no alerts", async () => {
    expect(await enrich()).toBeUndefined();
    expect(errors).not.toHaveBeenCalled();
  });

  it("finds nothing when the alert's details name no device", async () => {
    answer = () => Response.json(alertsPage([listedAlert({ details: { loss_percent: 8.4 } })]));
    expect(await enrich()).toBeUndefined();
  });

  it("logs a refusal once, with its status and without the token", async () => {
    answer = () => Response.json({ error: { message: "Unauthorized", code: 2006 } }, { status: 401 });
    expect(await enrich()).toBeUndefined();
    expect(logged()).toEqual([{ event: "pagerduty-enrich-failed", incident_id: INCIDENT_ID, status: 401 }]);
    expect(String(errors.mock.calls[0]?.[0])).not.toContain(TOKEN);
  });

  it(`gives up after ${ENRICH_TIMEOUT_MS} ms`, async () => {
    // Stands in for the timer, so the test does not wait the real five seconds.
    const timer = new AbortController();
    const timeout = vi.spyOn(AbortSignal, "timeout").mockReturnValue(timer.signal);
    answer = (init) => new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const pending = enrich();
    timer.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    expect(await pending).toBeUndefined();
    expect(timeout).toHaveBeenCalledWith(ENRICH_TIMEOUT_MS);
    expect(logged()).toEqual([{ event: "pagerduty-enrich-failed", incident_id: INCIDENT_ID, status: "timeout" }]);
  });

  it("logs an unreachable API", async () => {
    answer = () => Promise.reject(new TypeError("Network connection lost."));
    expect(await enrich()).toBeUndefined();
    expect(logged()).toEqual([{ event: "pagerduty-enrich-failed", incident_id: INCIDENT_ID, status: "unreachable" }]);
  });

  it.each([
    ["a body of the wrong shape", () => Response.json({ alerts: { id: "Q1R5D6XG0E2V9M" } })],
    ["a body that is not JSON", () => new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } })],
  ])("logs %s", async (_, reply) => {
    answer = reply;
    expect(await enrich()).toBeUndefined();
    expect(logged()).toEqual([{ event: "pagerduty-enrich-failed", incident_id: INCIDENT_ID, status: "invalid-body" }]);
  });

  it("asks nothing about alerts of other sources or without an incident id", async () => {
    expect(await enrich({ ...incidentAlert, source: "zapier" })).toBeUndefined();
    expect(await enrich({ ...incidentAlert, refs: undefined })).toBeUndefined();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("escapes the incident id in the path", async () => {
    fetchSpy.mockImplementation(async (input) => {
      expect(String(input)).toBe(`${PAGERDUTY_API_BASE}/incidents/..%2Fusers%2FPTUXL6G/alerts?limit=1`);
      return Response.json(alertsPage([]));
    });
    await enrich({ ...incidentAlert, refs: { incident_id: "../users/PTUXL6G" } });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });
});
