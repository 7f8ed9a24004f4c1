import { describe, expect, it } from "vitest";
import type { ApprovalReported } from "./approvals";
import { approvalEndedReports, approvalRequestedReports, approvalText } from "./approvals";
import type { ChannelSettings } from "../config/channels";

const settings = (buttons: boolean, publicUrl?: string): ChannelSettings => ({
  incident: { apiBase: "https://api.pagerduty.com", token: "k", from: "relay@example.com" },
  slack: { url: "https://hooks.slack.com/services/T/B/x", buttons },
  webhook: { url: "https://tools.example.com/dex", key: new Uint8Array(32) },
  ...(publicUrl ? { publicUrl } : {}),
});

const awaiting = (overrides: Partial<ApprovalReported> = {}): ApprovalReported => ({
  key: "a".repeat(64),
  delivery_id: "dl-1",
  source: "pagerduty",
  rule: "vpn-packet-loss-pcap",
  type: "pcap",
  device_id: "d-jane",
  device_name: "JANE-MBP",
  user_email: "jane.doe@example.com",
  alert_title: "VPN packet loss <here>",
  incident_id: "Q1",
  token: `${"a".repeat(64)}.${"b".repeat(32)}`,
  approval: { state: "awaiting", expires_at: "2026-11-25T12:30:00.000Z" },
  at: "2026-11-25T12:00:00.000Z",
  ...overrides,
});

const slackOf = (reports: ReturnType<typeof approvalRequestedReports>) => JSON.parse(reports.find((r) => r.channel === "slack")!.body);

describe("approvalRequestedReports", () => {
  it("gives Slack Approve and Deny only when Slack's clicks can be verified; otherwise it points at the console", () => {
    const withButtons = slackOf(approvalRequestedReports(awaiting(), settings(true, "https://relay.example.com")));
    expect(withButtons.blocks.map((b: any) => b.type)).toEqual(["section", "actions", "context"]);
    const without = slackOf(approvalRequestedReports(awaiting(), settings(false, "https://relay.example.com")));
    expect(without.blocks.map((b: any) => b.type)).toEqual(["section", "context"]);
    expect(without.text).toContain(`Approve or deny it in the console: https://relay.example.com/console#approval-${"a".repeat(64)}`);
    expect(JSON.stringify(without)).not.toContain("b".repeat(32));
  });

  it("says where the console is without RELAY_PUBLIC_URL, and escapes the alert's title for Slack", () => {
    const reports = approvalRequestedReports(awaiting(), settings(true));
    expect(JSON.parse(reports.find((r) => r.channel === "incident")!.body).note.content).toContain("Approve or deny it in the relay's console (/console).");
    expect(slackOf(reports).blocks[2].elements[0].text).toContain("VPN packet loss &lt;here&gt;");
  });

  it("goes only where the rule's notify says, and to PagerDuty only for PagerDuty's alerts", () => {
    expect(approvalRequestedReports(awaiting({ notify: ["slack"] }), settings(true)).map((r) => r.channel)).toEqual(["slack"]);
    expect(approvalRequestedReports(awaiting({ source: "zapier" }), settings(true)).map((r) => r.channel)).toEqual(["slack", "webhook"]);
  });
});

describe("approvalEndedReports", () => {
  it("tells Slack of a denial made in the console, not of one made in Slack, whose clicked message says it", () => {
    const denied = (via: "slack" | "console" | "api") =>
      awaiting({ token: undefined, approval: { state: "denied", expires_at: "x", by: "sam", via, at: "2026-11-25T12:05:00.000Z" } });
    expect(approvalEndedReports(denied("console"), settings(true)).map((r) => `${r.channel}:${r.event}`)).toEqual([
      "incident:approval.denied",
      "slack:approval.denied",
      "webhook:approval.denied",
    ]);
    expect(approvalEndedReports(denied("slack"), settings(true)).map((r) => r.channel)).toEqual(["incident", "webhook"]);
    // Decided by a script through the operator API: Slack's message still shows the buttons until told.
    expect(approvalEndedReports(denied("api"), settings(true)).map((r) => r.channel)).toEqual(["incident", "slack", "webhook"]);
  });
});

describe("approvalText", () => {
  it("says where an approval stands, and who decided", () => {
    const at = "2026-11-25T12:05:00.000Z";
    expect(approvalText(awaiting({ approval: { state: "approved", expires_at: "x", by: "oncall@example.com", via: "console", at } }))).toBe(
      `pcap on JANE-MBP (jane.doe@example.com) (rule vpn-packet-loss-pcap) was approved by oncall@example.com in the console at ${at}; the relay is sending it.`,
    );
    expect(approvalText(awaiting({ approval: { state: "denied", expires_at: "x", by: "admin token", via: "api", at } }))).toContain(
      "was denied by admin token through the operator API",
    );
    expect(approvalText(awaiting({ approval: { state: "expired", expires_at: at, at } }))).toBe(
      `pcap on JANE-MBP (jane.doe@example.com) (rule vpn-packet-loss-pcap) expired at ${at}: nobody approved it in time, and it was never sent.`,
    );
  });
});
