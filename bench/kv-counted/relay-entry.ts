import relay from "../../src/index";

// The relay's Durable Object, exported from this entry as wrangler.jsonc's binding expects.
export { CommandLedger } from "../../src/index";

/**
 * The relay, unchanged, with every call it makes on RELAY_KV counted: the benchmark runs
 * this entry (bundled by `wrangler deploy --dry-run bench/kv-counted/relay-entry.ts` with
 * the relay's own wrangler.jsonc) to measure KV operations per alert, which `wrangler dev`
 * does not report. `GET /__bench/kv` returns the counts; `POST /__bench/kv/reset` zeroes
 * them. Counts live in the isolate, which `wrangler dev` shares between `fetch` and the
 * queue consumer.
 */
interface KvCounts {
  /** `get(key)` and `getWithMetadata(key)` calls: one key read each. */
  singleGets: number;
  /** `get([keys])` and `getWithMetadata([keys])` calls, and the keys they asked for: KV bills each key as a read. */
  bulkGets: number;
  bulkGetKeys: number;
  puts: number;
  deletes: number;
  lists: number;
  /** Key reads, writes and deletes by the key's prefix (`devices`, `redelivery`, `delivery`...). */
  byPrefix: Record<string, { reads: number; writes: number; deletes: number }>;
}

const zero = (): KvCounts => ({ singleGets: 0, bulkGets: 0, bulkGetKeys: 0, puts: 0, deletes: 0, lists: 0, byPrefix: {} });
let counts = zero();

function tally(key: unknown, operation: "reads" | "writes" | "deletes") {
  const prefix = String(key).split(":")[0] ?? "";
  const entry = (counts.byPrefix[prefix] ??= { reads: 0, writes: 0, deletes: 0 });
  entry[operation]++;
}

function counted(kv: KVNamespace): KVNamespace {
  const countRead = (key: unknown) => {
    if (Array.isArray(key)) {
      counts.bulkGets++;
      counts.bulkGetKeys += key.length;
      for (const k of key) tally(k, "reads");
    } else {
      counts.singleGets++;
      tally(key, "reads");
    }
  };
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "get" || property === "getWithMetadata") countRead(args[0]);
        else if (property === "put") {
          counts.puts++;
          tally(args[0], "writes");
        } else if (property === "delete") {
          counts.deletes++;
          tally(args[0], "deletes");
        } else if (property === "list") counts.lists++;
        return value.apply(target, args);
      };
    },
  });
}

const withCountedKv = (env: Env): Env => ({ ...env, RELAY_KV: counted(env.RELAY_KV) });

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__bench/kv") return Response.json(counts);
    if (pathname === "/__bench/kv/reset" && request.method === "POST") {
      counts = zero();
      return Response.json(counts);
    }
    return relay.fetch(request, withCountedKv(env), ctx);
  },
  queue(batch, env, ctx) {
    // Passed on with the context too, so the wrapper keeps working if the relay starts using it.
    return (relay.queue as ExportedHandlerQueueHandler<Env>)(batch, withCountedKv(env), ctx);
  },
} satisfies ExportedHandler<Env>;
