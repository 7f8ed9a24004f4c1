import { describe, expect, it } from "vitest";
import { standardWebhookHeaders } from "../report/standard-webhooks";
import { verifyStandardWebhook } from "../sources/webhook/signature";
import { webhookSecretKey } from "./webhook-secret";

const KEY = "the relay's webhook signing key";
const SECRET = `whsec_${btoa(KEY)}`;

describe("webhookSecretKey", () => {
  it("decodes the base64 after whsec_, and the same without the prefix", () => {
    expect(new TextDecoder().decode(webhookSecretKey(SECRET))).toBe(KEY);
    expect(webhookSecretKey(btoa(KEY))).toEqual(webhookSecretKey(SECRET));
  });

  it.each([["whsec_"], [""], ["whsec_not base64!"], ["whsec_c2hvcnQ"], ["plain-secret"]])("holds no key in %j", (secret) => {
    expect(webhookSecretKey(secret)).toBeUndefined();
  });

  it("gives the result webhook's signer and the webhook source's verifier the same key", async () => {
    const now = new Date("2026-11-20T10:00:00Z");
    const body = '{"type":"command.finished"}';
    const headers = await standardWebhookHeaders("msg_1", body, webhookSecretKey(SECRET)!, now);
    await expect(verifyStandardWebhook(new TextEncoder().encode(body), new Headers(headers), [SECRET], now)).resolves.toBeUndefined();
  });
});
