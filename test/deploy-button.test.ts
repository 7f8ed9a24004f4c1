/// <reference types="vite/types/importGlob.d.ts" />
import { describe, expect, it } from "vitest";
import packageJson from "../package.json";
import deploySecrets from "../.dev.vars.example?raw";
import localVars from "../dev/local.dev.vars?raw";

/**
 * What the "Deploy to Cloudflare" button reads: wrangler.toml for the bindings (each needs a
 * default), .dev.vars.example for the secrets (it asks for each uncommented line, and stores
 * what is typed), and package.json's `cloudflare.bindings` for the description of each.
 * @see https://developers.cloudflare.com/workers/platform/deploy-buttons/
 */
const wranglerToml = Object.values(import.meta.glob<string>("../wrangler.toml", { query: "?raw", import: "default", eager: true }))[0]!;

/** The tables of wrangler.toml, `[name]` or `[[name]]`, each with its lines. */
function tables(toml: string): Array<{ name: string; body: string }> {
  return [...`${toml}\n[`.matchAll(/^\[\[?([\w.]+)\]\]?\s*$([\s\S]*?)(?=^\[)/gm)].map((m) => ({ name: m[1]!, body: m[2]! }));
}
const value = (body: string, key: string) => new RegExp(`^${key}\\s*=\\s*(.+?)\\s*$`, "m").exec(body)?.[1];

/** Every binding wrangler.toml gives the Worker, by name, with what it is set to. */
function wranglerBindings(toml: string): Map<string, string | undefined> {
  const bindings = new Map<string, string | undefined>();
  for (const { name, body } of tables(toml)) {
    if (name === "vars") for (const m of body.matchAll(/^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/gm)) bindings.set(m[1]!, m[2]);
    if (name === "vars.RULES") bindings.set("RULES", "[[vars.RULES]]");
    if (["kv_namespaces", "queues.producers"].includes(name)) bindings.set(value(body, "binding")!.replaceAll('"', ""), name);
    if (name === "analytics_engine_datasets") bindings.set(value(body, "binding")!.replaceAll('"', ""), value(body, "dataset"));
    if (name === "durable_objects.bindings") bindings.set(value(body, "name")!.replaceAll('"', ""), value(body, "class_name"));
    if (name === "ratelimits") bindings.set(value(body, "name")!.replaceAll('"', ""), `${value(body, "namespace_id")} ${value(body, "simple")}`);
  }
  return bindings;
}

/** Lines `NAME=value` of a dotenv file, commented out (`# NAME=`) or not. */
function dotenvEntries(text: string): Array<{ name: string; value: string; commented: boolean }> {
  return [...text.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({ name: m[2]!, value: m[3]!, commented: Boolean(m[1]) }));
}

describe("the Deploy to Cloudflare button's inputs", () => {
  const bindings = wranglerBindings(wranglerToml);
  const secrets = dotenvEntries(deploySecrets);
  const described = (packageJson as { cloudflare: { bindings: Record<string, { description: string }> } }).cloudflare.bindings;

  it("reads every binding of wrangler.toml, each with a default the button can provision", () => {
    for (const name of ["RELAY_KV", "ALERT_QUEUE", "COMMAND_LEDGER", "SENDER_LIMITER", "DECISIONS", "CF_ACCOUNT_ID", "RULES"]) expect(bindings.has(name), name).toBe(true);
    for (const [name, setting] of bindings) expect(setting, name).toEqual(expect.any(String));
    expect(bindings.get("SENDER_LIMITER")).toMatch(/^"\d+" \{ limit = \d+, period = (10|60) \}$/);
    expect(bindings.get("DECISIONS")).toMatch(/^"\w+"$/);
  });

  it("asks for the secrets without a default: what is typed is what production uses", () => {
    const asked = secrets.filter((s) => !s.commented);
    expect(asked.map((s) => s.name)).toEqual(["DEX_API_TOKEN", "ADMIN_TOKEN"]);
    for (const secret of secrets) expect(secret.value, secret.name).toBe("");
  });

  it("lists every secret the relay reads: each binding npm start sets that wrangler.toml does not", () => {
    const local = dotenvEntries(localVars).filter((e) => !e.commented).map((e) => e.name);
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
