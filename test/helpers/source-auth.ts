import { env } from "cloudflare:workers";
import { hmacSha256Hex } from "../../src/crypto/hmac";

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
    };

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

/** Every secret the test bindings hold: none may ever appear in a log line or a response. */
export function testSecrets(): string[] {
  return Object.entries(env as unknown as Record<string, unknown>)
    .filter(([name, value]) => /(_TOKEN|_SECRET)$/.test(name) && typeof value === "string" && value.trim() !== "")
    .flatMap(([, value]) => String(value).split(",").map((s) => s.trim()))
    .filter((s) => s.length > 0);
}

function flipLast(text: string): string {
  const last = text.at(-1);
  return text.slice(0, -1) + (last === "0" ? "1" : "0");
}

function otherSecret(binding: string): string {
  return testSecrets().find((s) => s !== bindingValue(binding)) ?? "another-token";
}
