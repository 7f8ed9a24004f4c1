import { exports, env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers", async () => {
  const res = await exports.default.fetch("https://relay.test/");
  expect(res.status).toBe(200);
  expect(env.DEX_API_TOKEN).toBe("test-dex-token");
});
