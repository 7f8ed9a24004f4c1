import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readChannels } from "./channels";

const on = {
  PAGERDUTY_API_TOKEN: "pd-key",
  PAGERDUTY_FROM_EMAIL: "relay@example.com",
  PAGERDUTY_API_BASE: "https://api.pagerduty.com/",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x",
  RESULT_WEBHOOK_URL: "https://tools.example.com/dex",
  RESULT_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  RELAY_PUBLIC_URL: "https://relay.example.com/",
};
const withVars = (vars: Record<string, string>) => ({ ...env, ...vars }) as Env;

describe("readChannels", () => {
  it("turns on every channel whose settings are complete", () => {
    const { settings, off } = readChannels(withVars(on));
    expect(off).toEqual([]);
    expect(settings.incident).toEqual({ apiBase: "https://api.pagerduty.com", token: "pd-key", from: "relay@example.com" });
    expect(settings.slack?.url).toBe(on.SLACK_WEBHOOK_URL);
    expect(settings.webhook?.url).toBe(on.RESULT_WEBHOOK_URL);
    expect(settings.publicUrl).toBe("https://relay.example.com");
  });

  it("says which channel is off and why, never with a secret's value", () => {
    const { settings, off } = readChannels(
      withVars({ ...on, PAGERDUTY_FROM_EMAIL: "", SLACK_WEBHOOK_URL: "not a url", RESULT_WEBHOOK_SECRET: "plain-secret" }),
    );
    expect(settings.incident).toBeUndefined();
    expect(settings.slack).toBeUndefined();
    expect(settings.webhook).toBeUndefined();
    expect(off).toEqual([
      { channel: "incident", reason: "PAGERDUTY_FROM_EMAIL is not set" },
      { channel: "slack", reason: "SLACK_WEBHOOK_URL is not set to an http(s) URL" },
      { channel: "webhook", reason: "RESULT_WEBHOOK_SECRET is not a whsec_ secret" },
    ]);
    expect(JSON.stringify(off)).not.toContain("plain-secret");
  });

  it("keeps a result webhook off rather than sending it unsigned", () => {
    expect(readChannels(withVars({ ...on, RESULT_WEBHOOK_SECRET: "" })).settings.webhook).toBeUndefined();
    expect(readChannels(withVars({ ...on, RESULT_WEBHOOK_SECRET: "whsec_c2hvcnQ=" })).settings.webhook).toBeUndefined();
  });

  it("builds no download link without RELAY_PUBLIC_URL", () => {
    expect(readChannels(withVars({ ...on, RELAY_PUBLIC_URL: "" })).settings.publicUrl).toBeUndefined();
  });
});

describe("readChannels, once per isolate", () => {
  it("reads the same variables once, and again when one changes", () => {
    const first = readChannels(withVars(on));
    expect(readChannels(withVars(on))).toBe(first);
    const changed = readChannels(withVars({ ...on, SLACK_WEBHOOK_URL: "" }));
    expect(changed).not.toBe(first);
    expect(changed.settings.slack).toBeUndefined();
  });
});
