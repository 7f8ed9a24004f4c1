import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { unstable_readConfig } from "wrangler";
import { defineConfig } from "vitest/config";

const wranglerConfig = unstable_readConfig({ config: "./wrangler.toml" });

/**
 * Tests run inside workerd with the bindings of wrangler.toml, as in production. Every
 * variable is set here explicitly, so a developer's `.dev.vars` (made for `npm start`)
 * never changes what the tests see: the rules are the ones wrangler.toml ships.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...wranglerConfig.vars,
          CF_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
          DEX_API_BASE: "https://dex.test/client/v4",
          CF_API_TOKEN: "test-dex-token",
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
          // Off unless a test turns them on with an env copy.
          PAGERDUTY_API_TOKEN: "",
          GRAFANA_TIMESTAMP_HEADER: "",
        },
      },
    }),
  ],
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "dev/**/*.test.ts"],
    // One runtime for all files instead of one each: the suite runs in a third of the time.
    // Files stay apart because every spy is undone after each test, tests that use storage
    // empty it after themselves (test/helpers/relay.ts, isolateEachTest), and files run one
    // after another: they share that storage, so one file's reset must not land mid-test
    // in another.
    isolate: false,
    fileParallelism: false,
    restoreMocks: true,
  },
});
