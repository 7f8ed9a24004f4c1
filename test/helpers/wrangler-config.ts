import { inject } from "vitest";

/**
 * The parts of wrangler.jsonc that tests check, as wrangler itself reads them. vitest.config.ts
 * reads the file (the tests run in workerd, without a file system) and provides this.
 */
export interface ShippedConfig {
  vars: Record<string, unknown>;
  kv_namespaces: Array<{ binding: string; id?: string }>;
  queues: {
    producers?: Array<{ binding: string; queue: string }>;
    consumers?: Array<{ queue: string; max_retries?: number; dead_letter_queue?: string }>;
  };
  durable_objects: { bindings: Array<{ name: string; class_name: string }> };
  ratelimits?: Array<{ name: string; namespace_id: string; simple: { limit: number; period: number } }>;
  analytics_engine_datasets?: Array<{ binding: string; dataset?: string }>;
}

declare module "vitest" {
  export interface ProvidedContext {
    shippedConfig: ShippedConfig;
  }
}

/** wrangler.jsonc as the deploy reads it. */
export function shippedConfig(): ShippedConfig {
  return inject("shippedConfig");
}
