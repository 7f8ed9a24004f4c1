import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import devVarsExample from "../../dev/local.dev.vars?raw";
import { SOURCE_NAMES } from "../sources/registry";
import { loadRules } from "./load-rules";

const SOURCES = ["pagerduty", "zapier"];

const pcapRule = {
  name: "vpn-pcap",
  match: { source: "pagerduty", severity: ["critical"], title: "/packet loss for (?<user_email>\\S+@\\S+)/i" },
  command: { type: "pcap", args: { "time-limit-min": 2 } },
};

function errorOf(raw: unknown): string {
  const result = loadRules(raw, SOURCES);
  if (result.ok) throw new Error("expected the rules to be refused");
  return result.error;
}

describe("loadRules", () => {
  it("takes an approval's approvers as Slack user ids and emails, and refuses anything else with its path", () => {
    const approving = (approval: unknown) => [{ ...pcapRule, approval }];
    const result = loadRules(approving({ approvers: ["U0SAMLEE", "W0GRID01", "oncall@example.com"] }), SOURCES);
    expect(result.ok && result.rules[0]?.approval).toEqual({ expires_minutes: 30, approvers: ["U0SAMLEE", "W0GRID01", "oncall@example.com"] });
    expect(errorOf(approving({ approvers: ["sam"] }))).toMatch(/approval\.approvers\[0\].*an approver is a Slack user id \(U…\) or an email/);
    expect(errorOf(approving({ approvers: ["u0samlee"] }))).toMatch(/approval\.approvers\[0\]/);
    expect(errorOf(approving({ approvers: [] }))).toMatch(/approval\.approvers/);
    expect(errorOf(approving({ approvers: Array.from({ length: 51 }, (_, i) => `U0${String(i).padStart(4, "0")}`) }))).toMatch(/approval\.approvers/);
  });

  it("accepts the array wrangler.jsonc produces and compiles its patterns", () => {
    const result = loadRules([pcapRule], SOURCES);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [rule] = result.rules;
    expect(rule?.sources).toEqual(["pagerduty"]);
    expect(rule?.title?.flags).toBe("i");
    expect(rule?.max_devices).toBe(10);
    expect(rule?.title?.exec("Packet loss for jane@example.com")?.groups?.user_email).toBe("jane@example.com");
  });

  it("accepts the same array as a JSON string, as .dev.vars carries it", () => {
    const result = loadRules(JSON.stringify([pcapRule]), SOURCES);
    expect(result.ok && result.rules.map((r) => r.name)).toEqual(["vpn-pcap"]);
  });

  it("accepts an empty list: every alert is then recorded as no-rule", () => {
    expect(loadRules([], SOURCES)).toEqual({ ok: true, rules: [] });
  });

  it("loads the rules shipped in wrangler.jsonc", () => {
    const result = loadRules(env.RULES, SOURCE_NAMES);
    expect(result).toMatchObject({ ok: true });
  });

  it("loads the rules dev/local.dev.vars gives `npm start`, which are wrangler.jsonc's", () => {
    const line = devVarsExample.split("\n").find((l) => l.startsWith("RULES="));
    const raw = line?.slice("RULES=".length).replace(/^'|'$/g, "");
    const result = loadRules(raw, SOURCE_NAMES);
    expect(result).toMatchObject({ ok: true });
    expect(JSON.parse(raw ?? "")).toEqual(env.RULES);
  });

  it("accepts fixed targets in each of their three forms", () => {
    const targets = [
      { hostname: "NOC-PROBE-01" },
      { user_email: "noc.probe@example.com" },
      { device_id: "5c9e1b7a-3d2f-4a8c-9e6b-4f1a2d3c5e03", user_email: "night.shift@example.com", registration_id: "d4f1a8c3" },
    ];
    const result = loadRules([{ ...pcapRule, targets }], SOURCES);
    expect(result.ok && result.rules[0]?.targets).toEqual(targets);
  });

  it("refuses a target of another shape, and more than 50", () => {
    for (const target of [{ device_id: "d-1" }, { hostname: "A", user_email: "a@example.com" }, { host: "A" }, {}]) {
      expect(errorOf([{ ...pcapRule, targets: [{ hostname: "OK" }, target] }])).toMatch(
        /^RULES\[0\]\.targets\[1\]: a target is \{ hostname \}, \{ user_email \} or \{ device_id, user_email \}/,
      );
    }
    expect(errorOf([{ ...pcapRule, targets: [{ user_email: "not an email" }] }])).toMatch(/^RULES\[0\]\.targets\[0\]\.user_email: /);
    const many = Array.from({ length: 51 }, (_, i) => ({ hostname: `PROBE-${i}` }));
    expect(errorOf([{ ...pcapRule, targets: many }])).toMatch(/^RULES\[0\]\.targets: /);
    expect(errorOf([{ ...pcapRule, targets: [] }])).toMatch(/^RULES\[0\]\.targets: /);
  });

  it("reports a missing or unparseable RULES", () => {
    expect(errorOf(undefined)).toBe("RULES is not set");
    expect(errorOf("[{")).toBe("RULES: not valid JSON");
  });

  it("names the path of an unknown command type", () => {
    const rules = [pcapRule, pcapRule, { ...pcapRule, name: "third", command: { type: "traceroute" } }];
    expect(errorOf(rules)).toMatch(/^RULES\[2\]\.command\.type: /);
  });

  it("refuses args that do not belong to the command type", () => {
    const rule = { ...pcapRule, command: { type: "warp-diag", args: { "time-limit-min": 2 } } };
    expect(errorOf([rule])).toMatch(/^RULES\[0\]\.command\.args: .*time-limit-min/);
  });

  it("refuses args outside the API's limits", () => {
    const rule = { ...pcapRule, command: { type: "pcap", args: { "packet-size-bytes": 0 } } };
    expect(errorOf([rule])).toMatch(/^RULES\[0\]\.command\.args\.packet-size-bytes: /);
  });

  it("refuses a title that is not a regular expression", () => {
    expect(errorOf([{ ...pcapRule, match: { title: "(unclosed" } }])).toMatch(/^RULES\[0\]\.match\.title: invalid regular expression/);
  });

  it("loads a title with `\\p` and no u flag, a plain p to JavaScript, and matches with it", () => {
    // This title once sent the backtracking check into a loop that ran the Worker out of memory.
    const result = loadRules([{ ...pcapRule, match: { title: "\\packet loss+?" } }], SOURCES);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rules[0]?.title?.test("VPN packet loss for jane.doe@example.com")).toBe(true);
  });

  it("refuses a nested repetition after a plain `\\p` or `\\k`, with its path", () => {
    expect(errorOf([{ ...pcapRule, match: { title: "\\p(a+)+}" } }])).toMatch(/^RULES\[0\]\.match\.title: pattern may backtrack catastrophically/);
    expect(errorOf([{ ...pcapRule, match: { labels: { team: "/\\k<(a+)+>/" } } }])).toMatch(
      /^RULES\[0\]\.match\.labels\.team: pattern may backtrack catastrophically/,
    );
  });

  it("refuses a named group that fills no target field", () => {
    expect(errorOf([{ ...pcapRule, match: { title: "(?<usr_email>\\S+)" } }])).toMatch(/^RULES\[0\]\.match\.title: named group "usr_email"/);
  });

  it("refuses an invalid /pattern/ label value", () => {
    expect(errorOf([{ ...pcapRule, match: { labels: { team: "/[a-/" } } }])).toMatch(/^RULES\[0\]\.match\.labels\.team: invalid regular expression/);
  });

  it("refuses an unknown source and an unknown severity", () => {
    expect(errorOf([{ ...pcapRule, match: { source: ["zapier", "nagios"] } }])).toBe(
      'RULES[0].match.source[1]: unknown source "nagios" (known: pagerduty, zapier, operator)',
    );
    expect(errorOf([{ ...pcapRule, match: { severity: ["urgent"] } }])).toMatch(/^RULES\[0\]\.match\.severity\[0\]: /);
  });

  it("refuses duplicate rule names, unknown keys and bad numbers", () => {
    expect(errorOf([pcapRule, pcapRule])).toBe('RULES[1].name: duplicate rule name "vpn-pcap"');
    expect(errorOf([{ ...pcapRule, when: {} }])).toMatch(/^RULES\[0\]: .*when/);
    expect(errorOf([{ ...pcapRule, max_devices: 11 }])).toMatch(/^RULES\[0\]\.max_devices: /);
    expect(errorOf({ name: "not-a-list" })).toMatch(/^RULES: /);
  });
});
