import { describe, expect, it } from "vitest";
import packageJson from "../package.json";
import deploySecrets from "../.dev.vars.example?raw";
import localVars from "../dev/local.dev.vars?raw";
import { shippedConfig, type ShippedConfig } from "./helpers/wrangler-config";

/**
 * What the "Deploy to Cloudflare" button reads: wrangler.jsonc for the bindings (each needs a
 * default), .dev.vars.example for the secrets (it asks for each uncommented line, and stores
 * what is typed), and package.json's `cloudflare.bindings` for the description of each.
 * @see https://developers.cloudflare.com/workers/platform/deploy-buttons/
 */

/** Every binding wrangler.jsonc gives the Worker, by name, with what it is set to. */
function wranglerBindings(config: ShippedConfig): Map<string, unknown> {
  const bindings = new Map<string, unknown>(Object.entries(config.vars));
  for (const kv of config.kv_namespaces) bindings.set(kv.binding, "kv_namespaces");
  for (const producer of config.queues.producers ?? []) bindings.set(producer.binding, producer.queue);
  for (const dataset of config.analytics_engine_datasets ?? []) bindings.set(dataset.binding, dataset.dataset);
  for (const object of config.durable_objects.bindings) bindings.set(object.name, object.class_name);
  for (const limiter of config.ratelimits ?? []) bindings.set(limiter.name, limiter);
  return bindings;
}

/** Lines `NAME=value` of a dotenv file, commented out (`# NAME=`) or not. */
function dotenvEntries(text: string): Array<{ name: string; value: string; commented: boolean }> {
  return [...text.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({ name: m[2]!, value: m[3]!, commented: Boolean(m[1]) }));
}

describe("the Deploy to Cloudflare button's inputs", () => {
  const bindings = wranglerBindings(shippedConfig());
  const secrets = dotenvEntries(deploySecrets);
  const described = (packageJson as { cloudflare: { bindings: Record<string, { description: string }> } }).cloudflare.bindings;

  it("reads every binding of wrangler.jsonc, each with a default the button can provision", () => {
    for (const name of ["RELAY_KV", "ALERT_QUEUE", "COMMAND_LEDGER", "SENDER_LIMITER", "DECISIONS", "CF_ACCOUNT_ID", "RULES"])
      expect(bindings.has(name), name).toBe(true);
    for (const [name, setting] of bindings) expect(setting, name).toEqual(name === "RULES" ? expect.any(Array) : expect.anything());
    for (const [name, value] of Object.entries(shippedConfig().vars)) if (name !== "RULES") expect(value, name).toEqual(expect.any(String));
    expect(bindings.get("SENDER_LIMITER")).toEqual({
      name: "SENDER_LIMITER",
      namespace_id: expect.stringMatching(/^\d+$/),
      simple: { limit: expect.any(Number), period: expect.toBeOneOf([10, 60]) },
    });
    expect(bindings.get("DECISIONS")).toMatch(/^\w+$/);
  });

  it("asks for the secrets without a default: what is typed is what production uses", () => {
    const asked = secrets.filter((s) => !s.commented);
    expect(asked.map((s) => s.name)).toEqual(["DEX_API_TOKEN", "ADMIN_TOKEN"]);
    for (const secret of secrets) expect(secret.value, secret.name).toBe("");
  });

  it("lists every secret the relay reads: each binding npm start sets that wrangler.jsonc does not", () => {
    const local = dotenvEntries(localVars)
      .filter((e) => !e.commented)
      .map((e) => e.name);
    const secretNames = new Set(secrets.map((s) => s.name));
    const missing = [...new Set(local)].filter((name) => !bindings.has(name) && !secretNames.has(name));
    expect(missing).toEqual([]);
    for (const name of secretNames) expect(bindings.has(name), `${name} is a secret, not a variable`).toBe(false);
  });

  it("describes every binding and secret in package.json, and nothing else", () => {
    const expected = [...bindings.keys(), ...secrets.map((s) => s.name)].sort();
    expect(Object.keys(described).sort()).toEqual(expected);
    for (const [name, { description }] of Object.entries(described)) expect(description.length, name).toBeGreaterThan(20);
  });
});
