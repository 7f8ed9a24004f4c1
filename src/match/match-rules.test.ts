import { describe, expect, it } from "vitest";
import { compileRules } from "../../test/helpers/fakes";
import type { NormalizedAlert } from "../model/alert";
import { matchRules, MAX_MATCH_TEXT_LENGTH } from "./match-rules";

const rules = (raw: unknown[]) => compileRules(raw, ["pagerduty", "zapier"]);

const alert: NormalizedAlert = {
  source: "pagerduty",
  episode: "pagerduty:Q1",
  title: "VPN packet loss for jane.doe@example.com on JANE-MBP",
  severity: "critical",
  firing: true,
  status: "triggered",
  labels: { service: "Corporate VPN", urgency: "high" },
  target: {},
};

const command = { type: "warp-diag" };

describe("matchRules", () => {
  it("fires every rule that matches, in order", () => {
    const matched = matchRules(
      alert,
      rules([
        { name: "a", command },
        { name: "b", match: { source: "zapier" }, command },
        { name: "c", match: { source: ["zapier", "pagerduty"] }, command },
      ]),
    );
    expect(matched.map((m) => m.rule.name)).toEqual(["a", "c"]);
  });

  it("needs the severity to be listed, and a severity to be known", () => {
    const set = rules([{ name: "crit", match: { severity: ["critical", "error"] }, command }]);
    expect(matchRules(alert, set)).toHaveLength(1);
    expect(matchRules({ ...alert, severity: "warning" }, set)).toHaveLength(0);
    expect(matchRules({ ...alert, severity: undefined }, set)).toHaveLength(0);
  });

  it("needs every label, equal or matching a /pattern/", () => {
    const set = rules([{ name: "vpn", match: { labels: { service: "/vpn/i", urgency: "high" } }, command }]);
    expect(matchRules(alert, set)).toHaveLength(1);
    expect(matchRules({ ...alert, labels: { service: "Corporate VPN", urgency: "low" } }, set)).toHaveLength(0);
    expect(matchRules({ ...alert, labels: { service: "Payroll", urgency: "high" } }, set)).toHaveLength(0);
    expect(matchRules({ ...alert, labels: { service: "Corporate VPN" } }, set)).toHaveLength(0);
  });

  it("fills the target from the title's named groups", () => {
    const [match] = matchRules(alert, rules([{ name: "t", match: { title: "/for (?<user_email>\\S+@\\S+) on (?<hostname>[\\w-]+)/i" }, command }]));
    expect(match?.target).toEqual({ user_email: "jane.doe@example.com", hostname: "JANE-MBP" });
  });

  it("keeps what the alert itself says over what the title suggests", () => {
    const [match] = matchRules(
      { ...alert, target: { user_email: "sam.lee@example.com" } },
      rules([{ name: "t", match: { title: "for (?<user_email>\\S+@\\S+)" }, command }]),
    );
    expect(match?.target).toEqual({ user_email: "sam.lee@example.com" });
  });

  it("does not fire when the title does not match", () => {
    expect(matchRules({ ...alert, title: "Disk full" }, rules([{ name: "t", match: { title: "packet loss" }, command }]))).toEqual([]);
  });

  it("passes the alert's own target through when the rule has no title pattern", () => {
    const [match] = matchRules({ ...alert, target: { device_id: "d-1", user_email: "a@b.c" } }, rules([{ name: "a", command }]));
    expect(match?.target).toEqual({ device_id: "d-1", user_email: "a@b.c" });
  });
});

describe("matchRules, what a rule trusts", () => {
  const pcapByTitle = { name: "pcap", match: { title: "for (?<user_email>\\S+@\\S+)" }, command: { type: "pcap" } };

  it("does not give a rule without a title pattern what another rule found in the title, unless its trust says so", () => {
    const matched = matchRules(alert, rules([pcapByTitle, { name: "diag", match: { severity: ["critical"] }, command }]));
    expect(matched.map((m) => [m.rule.name, m.target.user_email])).toEqual([
      ["pcap", "jane.doe@example.com"],
      ["diag", undefined],
    ]);
    const trusting = matchRules(
      alert,
      rules([pcapByTitle, { name: "diag", match: { severity: ["critical"] }, trust: { pagerduty: ["title.user_email"] }, command }]),
    );
    expect(trusting.map((m) => m.target.user_email)).toEqual(["jane.doe@example.com", "jane.doe@example.com"]);
  });

  it("keeps to each rule's own title groups when two rules read different things", () => {
    const matched = matchRules(
      alert,
      rules([
        { name: "host", match: { title: "on (?<hostname>[\\w-]+)" }, command },
        { name: "user", match: { title: "for (?<user_email>\\S+@\\S+)" }, command },
      ]),
    );
    expect(matched.map((m) => m.target)).toEqual([{ hostname: "JANE-MBP" }, { user_email: "jane.doe@example.com" }]);
  });

  it("takes only the fields its trust lists for the alert's source: a title naming someone is no target where titles are not trusted", () => {
    const zapierAlert: NormalizedAlert = { ...alert, source: "zapier", target: { hostname: "SAM-XPS13", device_id: "d-sam" } };
    const set = rules([{ ...pcapByTitle, trust: { pagerduty: ["title.user_email"], zapier: ["hostname"] } }]);
    expect(matchRules(zapierAlert, set)[0]?.target).toEqual({ hostname: "SAM-XPS13" });
    expect(matchRules(alert, set)[0]?.target).toEqual({ user_email: "jane.doe@example.com" });
    const nothingFromZapier = rules([{ ...pcapByTitle, trust: { pagerduty: ["title.user_email"] } }]);
    expect(matchRules(zapierAlert, nothingFromZapier)[0]?.target).toEqual({});
  });

  it('uses "*" for the sources trust does not name', () => {
    const set = rules([{ name: "a", trust: { "*": ["user_email"] }, command }]);
    expect(matchRules({ ...alert, source: "zapier", target: { user_email: "a@b.c", device_id: "d-1" } }, set)[0]?.target).toEqual({ user_email: "a@b.c" });
  });

  it("matches a pattern against at most MAX_MATCH_TEXT_LENGTH characters of the title", () => {
    const set = rules([{ name: "tail", match: { title: "needle$" }, command }]);
    expect(matchRules({ ...alert, title: `${"x".repeat(MAX_MATCH_TEXT_LENGTH - 6)}needle` }, set)).toHaveLength(1);
    expect(matchRules({ ...alert, title: `${"x".repeat(MAX_MATCH_TEXT_LENGTH)}needle` }, set)).toHaveLength(0);
  });
});
