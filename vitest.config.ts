import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Tests run inside workerd with the bindings of wrangler.toml, as in production.
 * Secrets and the DEX base are test values; every outbound call is mocked per test.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CF_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
          DEX_API_BASE: "https://dex.test/client/v4",
          CF_API_TOKEN: "test-dex-token",
          PAGERDUTY_WEBHOOK_SECRET: "pd-secret-current",
          ZAPIER_TOKEN: "zapier-test-token",
        },
      },
    }),
  ],
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "dev/**/*.test.ts"],
  },
});
