import { env } from "cloudflare:workers";
import { hmacSha256Hex } from "../../src/crypto/hmac";
import { signStandardWebhook, standardWebhookHeaders } from "./sign";

/**
 * How each source authenticates, for tests that must build valid and invalid credentials
 * for every source of the registry. A source missing from {@link KNOWN_AUTH} is assumed to
 * take `Authorization: Bearer <NAME>_TOKEN`: a new source with another scheme then fails
 * the property tests loudly, which is the cue to add it here.
 */
export type SourceAuth =
  | { kind: "bearer"; binding: string }
  | {
      kind: "signature";
      binding: string;
      header: string;
      /** The header value for one lower-case hex HMAC. */
      format: (hex: string) => string;
      /** Extra headers the source also needs (Grafana: a bearer token besides the signature). */
      alsoBearer?: string;
    }
  /** Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` over `id.timestamp.body`. */
  | { kind: "standard-webhooks"; binding: string }
  /** The secret itself in a header of its own (Cloudflare Notifications' `cf-webhook-auth`). */
  | { kind: "shared-secret"; binding: string; header: string };

const KNOWN_AUTH: Record<string, SourceAuth> = {
  pagerduty: {
    kind: "signature",
    binding: "PAGERDUTY_WEBHOOK_SECRET",
    header: "x-pagerduty-signature",
    format: (hex) => `v1=${hex}`,
  },
  zapier: { kind: "bearer", binding: "ZAPIER_TOKEN" },
  alertmanager: { kind: "bearer", binding: "ALERTMANAGER_TOKEN" },
  datadog: { kind: "bearer", binding: "DATADOG_TOKEN" },
  grafana: {
    kind: "signature",
    binding: "GRAFANA_WEBHOOK_SECRET",
    header: "x-grafana-alerting-signature",
    format: (hex) => hex,
    alsoBearer: "GRAFANA_TOKEN",
  },
  webhook: { kind: "standard-webhooks", binding: "WEBHOOK_SECRET" },
  cloudflare: { kind: "shared-secret", binding: "CLOUDFLARE_NOTIFICATIONS_SECRET", header: "cf-webhook-auth" },
};

export function authOf(source: string): SourceAuth {
  return KNOWN_AUTH[source] ?? { kind: "bearer", binding: `${source.toUpperCase()}_TOKEN` };
}

/** The first value of a binding that may hold several, comma-separated (rotation). */
export function bindingValue(name: string): string {
  const value = (env as unknown as Record<string, unknown>)[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new Error(`test binding ${name} is not set: add it to vitest.config.ts or to test/helpers/source-auth.ts`);
  }
  return value.split(",")[0]!.trim();
}

/** Headers that authenticate `body` for `source` with the test bindings. */
export async function validAuthHeaders(source: string, body: string | Uint8Array): Promise<Record<string, string>> {
  const auth = authOf(source);
  if (auth.kind === "bearer") return { authorization: `Bearer ${bindingValue(auth.binding)}` };
  if (auth.kind === "standard-webhooks") return standardWebhookHeaders(body, [bindingValue(auth.binding)]);
  if (auth.kind === "shared-secret") return { [auth.header]: bindingValue(auth.binding) };
  const headers: Record<string, string> = {
    [auth.header]: auth.format(await hmacSha256Hex(bindingValue(auth.binding), body)),
  };
  if (auth.alsoBearer && hasBinding(auth.alsoBearer)) headers.authorization = `Bearer ${bindingValue(auth.alsoBearer)}`;
  return headers;
}

function hasBinding(name: string): boolean {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value.trim() !== "";
}

/**
 * Credentials for `body` that must all be refused: each is a near miss of the valid ones
 * (one character off, cut short, padded, signed over another body or with another secret,
 * another scheme), or nothing at all. Names say what is wrong, for failure messages.
 */
export async function invalidAuthVariants(source: string, body: string): Promise<Array<{ name: string; headers: Record<string, string> }>> {
  const auth = authOf(source);
  if (auth.kind === "bearer") {
    const token = bindingValue(auth.binding);
    return [
      { name: "no Authorization", headers: {} },
      { name: "empty Authorization", headers: { authorization: "" } },
      { name: "Bearer without token", headers: { authorization: "Bearer " } },
      { name: "one character changed", headers: { authorization: `Bearer ${flipLast(token)}` } },
      { name: "cut short", headers: { authorization: `Bearer ${token.slice(0, -1)}` } },
      { name: "one character more", headers: { authorization: `Bearer ${token}x` } },
      { name: "token twice", headers: { authorization: `Bearer ${token}${token}` } },
      { name: "Basic scheme", headers: { authorization: `Basic ${btoa(`user:${token}`)}` } },
      { name: "Basic scheme with the raw token", headers: { authorization: `Basic ${token}` } },
      { name: "token without scheme", headers: { authorization: token } },
      { name: "Token scheme", headers: { authorization: `Token ${token}` } },
      { name: "token as a second word", headers: { authorization: `Bearer x ${token}` } },
      { name: "token of another binding", headers: { authorization: `Bearer ${otherSecret(auth.binding)}` } },
    ];
  }
  if (auth.kind === "standard-webhooks") return standardWebhookVariants(bindingValue(auth.binding), body);
  if (auth.kind === "shared-secret") {
    const secret = bindingValue(auth.binding);
    const as = (value: string) => ({ [auth.header]: value });
    return [
      { name: "no secret header", headers: {} },
      { name: "empty secret header", headers: as("") },
      { name: "one character changed", headers: as(flipLast(secret)) },
      { name: "cut short", headers: as(secret.slice(0, -1)) },
      { name: "one character more", headers: as(`${secret}x`) },
      { name: "secret twice", headers: as(`${secret}${secret}`) },
      { name: "secret as a bearer token", headers: { authorization: `Bearer ${secret}` } },
      { name: "Bearer scheme in the secret header", headers: as(`Bearer ${secret}`) },
      { name: "HMAC of the body instead of the secret", headers: as(await hmacSha256Hex(secret, body)) },
      { name: "secret of another binding", headers: as(otherSecret(auth.binding)) },
    ];
  }
  const secret = bindingValue(auth.binding);
  const good = await hmacSha256Hex(secret, body);
  const headersWith = (value: string) => {
    const headers: Record<string, string> = { [auth.header]: value };
    if (auth.alsoBearer && hasBinding(auth.alsoBearer)) headers.authorization = `Bearer ${bindingValue(auth.alsoBearer)}`;
    return headers;
  };
  return [
    { name: "no signature", headers: headersWith("") },
    { name: "one hex digit changed", headers: headersWith(auth.format(flipLast(good))) },
    { name: "cut short", headers: headersWith(auth.format(good.slice(0, -2))) },
    { name: "extra hex digits", headers: headersWith(auth.format(`${good}00`)) },
    { name: "signed with another secret", headers: headersWith(auth.format(await hmacSha256Hex(`${secret}-revoked`, body))) },
    { name: "signed over another body", headers: headersWith(auth.format(await hmacSha256Hex(secret, `${body} `))) },
    { name: "the secret itself", headers: headersWith(auth.format(secret)) },
    { name: "sha256= scheme", headers: headersWith(`sha256=${good}`) },
    { name: "v0= scheme", headers: headersWith(`v0=${good}`) },
    { name: "not hex", headers: headersWith(auth.format("z".repeat(64))) },
  ];
}

/**
 * Near misses of a Standard Webhooks delivery: each header missing, a signature that is
 * one character off, cut short, under another scheme or encoding, over another id, body or
 * timestamp, by another secret, and timestamps outside the tolerance, however well signed.
 */
async function standardWebhookVariants(secret: string, body: string): Promise<Array<{ name: string; headers: Record<string, string> }>> {
  const now = Math.floor(Date.now() / 1000);
  const good = await standardWebhookHeaders(body, [secret], { id: "msg_near_miss", timestamp: now });
  const signature = good["webhook-signature"]!;
  const encoded = signature.slice(3);
  const hex = Array.from(atob(encoded), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  const withSignature = (value: string) => ({ ...good, "webhook-signature": value });
  const without = (name: string) => Object.fromEntries(Object.entries(good).filter(([key]) => key !== name));
  const other = bindingValue("PAGERDUTY_WEBHOOK_SECRET");
  return [
    { name: "no headers", headers: {} },
    { name: "no webhook-id", headers: without("webhook-id") },
    { name: "no webhook-timestamp", headers: without("webhook-timestamp") },
    { name: "no webhook-signature", headers: without("webhook-signature") },
    { name: "empty signature", headers: withSignature("") },
    // The first character: the last one of a base64 value may only carry padding bits.
    { name: "one character changed", headers: withSignature(`v1,${encoded[0] === "A" ? "B" : "A"}${encoded.slice(1)}`) },
    { name: "cut short", headers: withSignature(signature.slice(0, -4)) },
    { name: "v1a scheme", headers: withSignature(`v1a,${encoded}`) },
    { name: "v2 scheme", headers: withSignature(`v2,${encoded}`) },
    { name: "hex instead of base64", headers: withSignature(`v1,${hex}`) },
    { name: "the secret itself", headers: withSignature(`v1,${secret.replace(/^whsec_/, "")}`) },
    { name: "signed over another id", headers: { ...good, "webhook-id": "msg_other" } },
    { name: "signed over another body", headers: withSignature(await signStandardWebhook(`${body} `, "msg_near_miss", now, secret)) },
    { name: "signed with another secret", headers: withSignature(await signStandardWebhook(body, "msg_near_miss", now, `whsec_${btoa(other)}`)) },
    { name: "timestamp moved after signing", headers: { ...good, "webhook-timestamp": String(now + 1) } },
    { name: "stale timestamp", headers: await standardWebhookHeaders(body, [secret], { timestamp: now - 3600 }) },
    { name: "future timestamp", headers: await standardWebhookHeaders(body, [secret], { timestamp: now + 3600 }) },
    { name: "timestamp in milliseconds", headers: await standardWebhookHeaders(body, [secret], { timestamp: now * 1000 }) },
    { name: "a bearer token instead", headers: { authorization: `Bearer ${bindingValue("WEBHOOK_TOKEN")}x` } },
  ];
}

/** Every secret the test bindings hold: none may ever appear in a log line or a response. */
export function testSecrets(): string[] {
  return Object.entries(env as unknown as Record<string, unknown>)
    .filter(([name, value]) => /(_TOKEN|_SECRET)$/.test(name) && typeof value === "string" && value.trim() !== "")
    .flatMap(([, value]) =>
      String(value)
        .split(",")
        .map((s) => s.trim()),
    )
    .filter((s) => s.length > 0);
}

function flipLast(text: string): string {
  const last = text.at(-1);
  return text.slice(0, -1) + (last === "0" ? "1" : "0");
}

function otherSecret(binding: string): string {
  return testSecrets().find((s) => s !== bindingValue(binding)) ?? "another-token";
}
