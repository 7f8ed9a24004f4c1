import { describe, expect, it } from "vitest";
import { settleReport } from "./report-outbox";
import { REPORT_HORIZON_MS } from "./retry-schedule";

const T0 = Date.parse("2026-12-05T06:00:00Z");

describe("settleReport: what one attempt makes of a report", () => {
  it("ends a report its receiver took, or refused as it is", () => {
    expect(settleReport({ attempts: 0, created_at: T0 }, { state: "sent" }, T0)).toEqual({
      changes: { state: "sent", next_at: null, reason: null },
      result: "sent",
    });
    expect(settleReport({ attempts: 0, created_at: T0 }, { state: "failed", error: "slack answered HTTP 404" }, T0)).toEqual({
      changes: { state: "failed", next_at: null, reason: "slack answered HTTP 404" },
      result: "failed",
    });
  });

  it("retries on the schedule, or later when the receiver asked for longer", () => {
    expect(settleReport({ attempts: 0, created_at: T0 }, { state: "retry", error: "slack answered HTTP 500" }, T0)).toEqual({
      changes: { state: "pending", next_at: T0 + 10_000, reason: "slack answered HTTP 500; retrying in 10 s" },
      result: "retried",
    });
    const asked = settleReport({ attempts: 0, created_at: T0 }, { state: "retry", error: "HTTP 429", afterSeconds: 45 }, T0);
    expect(asked.changes.next_at).toBe(T0 + 45_000);
  });

  it("gives up once the report horizon has passed since it was written", () => {
    const before = settleReport({ attempts: 6, created_at: T0 }, { state: "retry", error: "HTTP 503" }, T0 + REPORT_HORIZON_MS - 1);
    expect(before.result).toBe("retried");
    const after = settleReport({ attempts: 6, created_at: T0 }, { state: "retry", error: "HTTP 503" }, T0 + REPORT_HORIZON_MS);
    expect(after).toEqual({ changes: { state: "failed", next_at: null, reason: "gave up after 7 attempts over 24 hours (last: HTTP 503)" }, result: "failed" });
  });
});
