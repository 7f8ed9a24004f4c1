/// <reference types="vite/types/importGlob.d.ts" />
import { describe, expect, it } from "vitest";
import { MAX_DELIVERY_ATTEMPTS } from "./queue-consumer";

/** wrangler.toml as text, read at build time: the tests run in workerd, without a file system. */
const wranglerToml = Object.values(import.meta.glob<string>("../../wrangler.toml", { query: "?raw", import: "default", eager: true }))[0]!;

/** `max_retries` of the relay's one `[[queues.consumers]]` table. */
function consumerMaxRetries(toml: string): number | undefined {
  const table = /^\[\[queues\.consumers\]\]\s*$([\s\S]*?)(?=^\[)/m.exec(`${toml}\n[`)?.[1];
  const value = table && /^max_retries\s*=\s*(\d+)\s*$/m.exec(table)?.[1];
  return value ? Number(value) : undefined;
}

describe("the consumer's retry budget", () => {
  it("gives up when the queue does: MAX_DELIVERY_ATTEMPTS is wrangler.toml's max_retries plus the first delivery", () => {
    const maxRetries = consumerMaxRetries(wranglerToml);
    expect(maxRetries).toBeTypeOf("number");
    expect(MAX_DELIVERY_ATTEMPTS).toBe(maxRetries! + 1);
  });

  it("reads max_retries from the consumer's table only", () => {
    const toml = "[[queues.producers]]\nmax_retries = 9\n\n[[queues.consumers]]\nqueue = \"q\"\nmax_retries = 3\n\n[[durable_objects.bindings]]\n";
    expect(consumerMaxRetries(toml)).toBe(3);
    expect(consumerMaxRetries("[[queues.consumers]]\nqueue = \"q\"\n")).toBeUndefined();
  });
});
