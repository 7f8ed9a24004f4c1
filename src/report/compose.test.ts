import { describe, expect, it } from "vitest";
import type { ChannelSettings } from "../config/channels";
import { finishedReports, finishedText, startedReports, startedText, type ReportedCommand } from "./compose";

const all: ChannelSettings = {
  incident: { apiBase: "https://api.pagerduty.com", token: "k", from: "relay@example.com" },
  slack: { url: "https://hooks.slack.com/services/T/B/x", buttons: true },
  webhook: { url: "https://tools.example.com/dex", key: new Uint8Array(32) },
  publicUrl: "https://relay.example.com",
};

const command = (overrides: Partial<ReportedCommand> = {}): ReportedCommand => ({
  command_id: "c-1",
  type: "pcap",
  status: "PENDING_EXEC",
  device_id: "d-jane",
  device_name: "JANE-MBP",
  user_email: "jane.doe@example.com",
  rule: "vpn-packet-loss-pcap",
  delivery_id: "dl-1",
  source: "pagerduty",
  alert_title: "VPN packet loss",
  incident_id: "Q1",
  at: "2026-11-25T12:00:00.000Z",
  ...overrides,
});

describe("startedText", () => {
  it("says what started on which device by which rules, one sentence per device", () => {
    const text = startedText([
      command(),
      command({ command_id: "c-2", type: "warp-diag", rule: "warp-diag-on-critical" }),
      command({
        command_id: "c-3",
        device_id: "d-sam",
        device_name: undefined,
        user_email: "sam.lee@example.com",
        type: "warp-diag",
        rule: "warp-diag-on-critical",
      }),
    ]);
    expect(text).toBe(
      "pcap and warp-diag started on JANE-MBP (jane.doe@example.com) by rules vpn-packet-loss-pcap and warp-diag-on-critical.\n" +
        "warp-diag started on d-sam (sam.lee@example.com) by rule warp-diag-on-critical.",
    );
  });
});

describe("startedReports", () => {
  it("one note and one Slack message per alert, one webhook event per command", () => {
    const reports = startedReports([command(), command({ command_id: "c-2", type: "warp-diag" })], all);
    expect(reports.map((r) => r.channel)).toEqual(["incident", "slack", "webhook", "webhook"]);
    expect(reports[0]).toMatchObject({ incident_id: "Q1", event: "command.created" });
  });

  it("writes to PagerDuty only for a PagerDuty alert, and follows the rule's notify", () => {
    expect(startedReports([command({ source: "zapier", incident_id: undefined })], all).map((r) => r.channel)).toEqual(["slack", "webhook"]);
    expect(startedReports([command({ notify: ["slack"] })], all).map((r) => r.channel)).toEqual(["slack"]);
    expect(startedReports([command({ notify: [] })], all)).toEqual([]);
    expect(startedReports([command()], { publicUrl: "https://relay.example.com" })).toEqual([]);
  });
});

describe("finished reports", () => {
  it("link the file for operators on SUCCESS", () => {
    const done = command({ status: "SUCCESS", filename: "pcap-c-1.zip", completed_date: "2026-11-25T12:02:30Z" });
    expect(finishedText(done, all)).toBe(
      "pcap on JANE-MBP (jane.doe@example.com) (rule vpn-packet-loss-pcap) finished: SUCCESS. Download (operators only): https://relay.example.com/v1/commands/c-1/download",
    );
    const event = JSON.parse(finishedReports(done, all).find((r) => r.channel === "webhook")!.body);
    // Every field of the command, as it is, except the incident (PagerDuty's, not the receiver's)
    // and the time, which becomes the event's timestamp; plus the operators' link.
    const { incident_id: _incident, at, ...fields } = done;
    expect(event).toEqual({
      type: "command.finished",
      timestamp: at,
      data: { ...fields, download_url: "https://relay.example.com/v1/commands/c-1/download" },
    });
  });

  it("say FAILED without a link, and name the file when there is no public URL for a link", () => {
    expect(finishedText(command({ status: "FAILED", completed_date: "2026-11-25T12:10:00Z" }), all)).toContain(
      "finished: FAILED. DEX reported the command as FAILED at 2026-11-25T12:10:00Z",
    );
    expect(finishedText(command({ status: "SUCCESS", filename: "pcap-c-1.zip" }), { ...all, publicUrl: undefined })).toContain(
      "File pcap-c-1.zip is ready; set RELAY_PUBLIC_URL",
    );
  });
});
