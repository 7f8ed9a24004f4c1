import { describe, expect, it } from "vitest";
import { compileRules } from "../../test/helpers/fakes";
import type { NormalizedAlert } from "../model/alert";
import { requestedRule } from "./requested-rule";

const rules = compileRules(
  [
    { name: "warp-diag-on-critical", command: { type: "warp-diag" }, match: { severity: ["critical"] } },
    {
      name: "warp-diag-on-demand",
      command: { type: "warp-diag" },
      match: { source: "operator", severity: ["critical"], title: "/never/" },
      trust: { zapier: ["hostname"] },
      targets: [{ hostname: "NOC-PROBE-01" }],
    },
  ],
  ["zapier"],
);

function asking(rule: string): NormalizedAlert {
  return {
    source: "operator",
    episode: "operator:d-1",
    title: "warp-diag-on-demand, asked for by admin token",
    firing: true,
    status: "requested",
    labels: { via: "api" },
    target: { user_email: "jane.doe@example.com" },
    request: { rule, requested_by: "admin token", via: "api" },
  };
}

describe("requestedRule", () => {
  it("is the named rule alone, aimed at the target asked for, whatever its conditions, trust and fixed targets say", () => {
    const [match, ...others] = requestedRule(asking("warp-diag-on-demand"), rules);
    expect(others).toEqual([]);
    expect(match!.rule).toMatchObject({ name: "warp-diag-on-demand", cooldown_minutes: 30, trust: undefined, targets: undefined });
    expect(match!.target).toEqual({ user_email: "jane.doe@example.com" });
  });

  it("is nothing for a rule that does not list operator among its sources, or one RULES no longer has", () => {
    expect(requestedRule(asking("warp-diag-on-critical"), rules)).toEqual([]);
    expect(requestedRule(asking("renamed-since"), rules)).toEqual([]);
  });
});
