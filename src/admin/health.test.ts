import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkHealth, jsonSyntaxError } from "./health";

describe("checkHealth: approvals", () => {
  it("says whether Slack's clicks are verified and pinned to one workspace", () => {
    expect(checkHealth(env).slack_interactions).toEqual({ signing_secret: false, team_pinned: false });
    expect(checkHealth({ ...env, SLACK_SIGNING_SECRET: "s", SLACK_TEAM_ID: "T1" } as Env).slack_interactions).toEqual({
      signing_secret: true,
      team_pinned: true,
    });
  });

  it("names the rules that need approval when nobody can give it: no Slack signing secret, no admin token, no Access", () => {
    expect(checkHealth(env).problems).toEqual([]);
    const { ok, problems } = checkHealth({ ...env, ADMIN_TOKEN: "", SLACK_SIGNING_SECRET: "" } as Env);
    expect(ok).toBe(false);
    expect(problems).toContain(
      "RULES: vpn-packet-loss-pcap needs approval, but nobody can give it: set SLACK_SIGNING_SECRET (Slack's buttons), or ADMIN_TOKEN or Access (the console)",
    );
    expect(checkHealth({ ...env, ADMIN_TOKEN: "", SLACK_SIGNING_SECRET: "s" } as Env).problems).toEqual([]);
  });
});

describe("jsonSyntaxError", () => {
  it("says where JSON breaks, by line and column", () => {
    expect(jsonSyntaxError("RULES", '[{"name":"x",}]')).toBe("RULES: not valid JSON: at line 1, column 14");
    expect(jsonSyntaxError("RULES", '[\n  {"name": x}\n]')).toBe("RULES: not valid JSON: at line 2, column 12");
    expect(jsonSyntaxError("RULES", '[{"name":"x"}')).toBe("RULES: not valid JSON: it ends too early");
    expect(jsonSyntaxError("RULES", "[]")).toBeUndefined();
  });
});

describe("jsonErrorOffset", () => {
  it("accepts what JSON.parse accepts, and refuses what it refuses", async () => {
    const { jsonErrorOffset } = await import("../config/json-position");
    const valid = ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"]}', " [ ] ", '""', "0"];
    const invalid = ["", "[1,]", "{'a':1}", '{"a"1}', "01", '"\\x"', "[1] 2", "tru", '"open', "{,}"];
    for (const text of valid) expect(jsonErrorOffset(text), text).toBeUndefined();
    for (const text of invalid) {
      expect(() => JSON.parse(text)).toThrow();
      expect(jsonErrorOffset(text), text).toEqual(expect.any(Number));
    }
  });
});
