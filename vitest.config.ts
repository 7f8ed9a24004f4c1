import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { unstable_readConfig } from "wrangler";
import { defineConfig } from "vitest/config";
import type { ShippedConfig } from "./test/helpers/wrangler-config";

const WRANGLER_CONFIG = "./wrangler.jsonc";
const wranglerConfig = unstable_readConfig({ config: WRANGLER_CONFIG });

/**
 * What tests check of the deploy configuration (test/helpers/wrangler-config.ts): read here,
 * with wrangler's own parser, since the tests run in workerd without a file system.
 */
const shippedConfig: ShippedConfig = JSON.parse(
  JSON.stringify({
    vars: wranglerConfig.vars,
    kv_namespaces: wranglerConfig.kv_namespaces,
    queues: wranglerConfig.queues,
    durable_objects: wranglerConfig.durable_objects,
    ratelimits: wranglerConfig.ratelimits,
    analytics_engine_datasets: wranglerConfig.analytics_engine_datasets,
  }),
);

/**
 * Tests run inside workerd with the bindings of wrangler.jsonc, as in production. Every
 * variable is set here explicitly, so a developer's `.dev.vars` (made for `npm start`)
 * never changes what the tests see: the rules are the ones wrangler.jsonc ships.
 */
const bindings = {
  ...wranglerConfig.vars,
  CF_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  DEX_API_BASE: "https://dex.test/client/v4",
  DEX_API_TOKEN: "test-dex-token",
  // The token's former name: unset, unless a test sets it (a developer's .dev.vars may have it).
  CF_API_TOKEN: "",
  PAGERDUTY_WEBHOOK_SECRET: "pd-secret-current",
  ZAPIER_TOKEN: "zapier-test-token",
  ALERTMANAGER_TOKEN: "alertmanager-test-token",
  GRAFANA_WEBHOOK_SECRET: "grafana-test-secret",
  GRAFANA_TOKEN: "grafana-test-token",
  DATADOG_TOKEN: "datadog-test-token",
  WEBHOOK_SECRET: "whsec_ZGV4LWFsZXJ0LXJlbGF5IHRlc3Qgd2ViaG9vayBrZXk=",
  WEBHOOK_TOKEN: "webhook-test-token",
  CLOUDFLARE_NOTIFICATIONS_SECRET: "cloudflare-test-secret",
  ADMIN_TOKEN: "admin-test-token",
  PAGERDUTY_ACTION_SECRET: "pd-action-test-secret",
  METRICS_TOKEN: "metrics-test-token",
  // Off unless a test turns them on with an env copy.
  PAGERDUTY_API_TOKEN: "",
  GRAFANA_TIMESTAMP_HEADER: "",
  // Most tests sign Grafana deliveries without a timestamp; the default ("false") is tested
  // with an env copy.
  GRAFANA_HMAC_WITHOUT_TIMESTAMP: "true",
  // Reports are off here; the tests of reports turn every channel on in a copy of this
  // configuration, which the relay hands to the command ledger (test/helpers/reports.ts).
  SLACK_WEBHOOK_URL: "",
  SLACK_SIGNING_SECRET: "",
  SLACK_TEAM_ID: "",
  RESULT_WEBHOOK_SECRET: "",
  RELAY_PUBLIC_URL: "https://relay.test",
};

/** The heaviest property-test files, each run in a runtime of its own (see below). */
const PROPERTY_FILES = ["sources.property.test.ts", "hostile.property.test.ts", "rules.property.test.ts"];

const shared = {
  // One runtime for all files of a project instead of one each: the suite runs in a third of
  // the time. Files stay apart because every spy is undone after each test, tests that use
  // storage empty it after themselves (test/helpers/relay.ts, isolateEachTest), and files run
  // one after another: they share that storage, so one file's reset must not land mid-test
  // in another.
  isolate: false,
  fileParallelism: false,
  restoreMocks: true,
  provide: { shippedConfig },
};

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: WRANGLER_CONFIG }, miniflare: { bindings } })],
        test: {
          name: "relay",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "dev/**/*.test.ts"],
          // Any property file not listed in PROPERTY_FILES still runs here.
          exclude: [...PROPERTY_FILES.map((file) => `test/properties/${file}`), "test/security/rule-patterns.test.ts"],
          ...shared,
        },
      },
      // The property tests build thousands of large payloads: each file in a runtime of its own,
      // so that no heap ever holds more than one file's garbage.
      ...PROPERTY_FILES.map((file) => ({
        plugins: [cloudflareTest({ wrangler: { configPath: WRANGLER_CONFIG }, miniflare: { bindings } })],
        test: { name: `properties:${file.replace(/\.property\.test\.ts$/, "")}`, include: [`test/properties/${file}`], ...shared },
      })),
      {
        // The full pattern checker explores long attack strings for a minute: alone in its runtime.
        plugins: [cloudflareTest({ wrangler: { configPath: WRANGLER_CONFIG }, miniflare: { bindings } })],
        test: { name: "patterns", include: ["test/security/rule-patterns.test.ts"], ...shared },
      },
    ],
  },
});
