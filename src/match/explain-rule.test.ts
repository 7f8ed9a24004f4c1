import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileRules } from "../../test/helpers/fakes";
import type { NormalizedAlert } from "../model/alert";
import { explainRule } from "./explain-rule";
import { matchRules } from "./match-rules";

const rules = (raw: unknown[]) => compileRules(raw, ["pagerduty", "zapier"]);

const alert: NormalizedAlert = {
  source: "pagerduty",
  episode: "pagerduty:Q1",
  title: "VPN packet loss for jane.doe@example.com",
  severity: "warning",
  firing: true,
  status: "triggered",
  labels: { service: "Corporate VPN" },
  target: {},
};
const command = { type: "warp-diag" };

describe("explainRule", () => {
  it("names the first condition that fails, in the matcher's order", () => {
    const [bySource, bySeverity, byMissingLabel, byLabelValue, byTitle, none] = rules([
      { name: "a", match: { source: "zapier", severity: ["critical"] }, command },
      { name: "b", match: { severity: ["critical", "error"], labels: { team: "it" } }, command },
      { name: "c", match: { labels: { team: "it" } }, command },
      { name: "d", match: { labels: { service: "/^dns/i" } }, command },
      { name: "e", match: { title: "/dropping packets/i" }, command },
      { name: "f", match: { title: "packet loss", labels: { service: "Corporate VPN" } }, command },
    ]);
    expect(explainRule(alert, bySource!)).toEqual({ condition: "source", expected: "one of zapier", actual: "pagerduty" });
    expect(explainRule(alert, bySeverity!)).toEqual({ condition: "severity", expected: "one of critical, error", actual: "warning" });
    expect(explainRule({ ...alert, severity: undefined }, bySeverity!)).toMatchObject({ condition: "severity", actual: null });
    expect(explainRule(alert, byMissingLabel!)).toEqual({ condition: "label", label: "team", expected: "= it", actual: null });
    expect(explainRule(alert, byLabelValue!)).toEqual({ condition: "label", label: "service", expected: "matches /^dns/i", actual: "Corporate VPN" });
    expect(explainRule(alert, byTitle!)).toEqual({ condition: "title", expected: "matches /dropping packets/i", actual: alert.title });
    expect(explainRule(alert, none!)).toBeUndefined();
  });

  it("does not take an inherited property for a label", () => {
    const [rule] = rules([{ name: "a", match: { labels: { constructor: "x" } }, command }]);
    expect(explainRule(alert, rule!)).toMatchObject({ condition: "label", label: "constructor", actual: null });
  });

  it("agrees with matchRules on whether a rule matches", () => {
    const set = rules([
      { name: "a", match: { source: "zapier" }, command },
      { name: "b", match: { severity: ["critical"] }, command },
      { name: "c", match: { labels: { team: "/^i/" } }, command },
      { name: "d", match: { title: "/loss/i" }, command },
    ]);
    fc.assert(
      fc.property(
        fc.constantFrom("pagerduty", "zapier"),
        fc.constantFrom(undefined, "critical", "warning"),
        fc.constantFrom("Packet LOSS", "latency"),
        fc.dictionary(fc.constantFrom("team", "service"), fc.constantFrom("it", "ops", "")),
        (source, severity, title, labels) => {
          const a = { ...alert, source, severity: severity as NormalizedAlert["severity"], title, labels };
          const matched = new Set(matchRules(a, set).map((m) => m.rule.name));
          for (const rule of set) expect(explainRule(a, rule) === undefined).toBe(matched.has(rule.name));
        },
      ),
    );
  });
});
