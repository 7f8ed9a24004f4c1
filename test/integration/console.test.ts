import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JANE, mockDexApi } from "../helpers/dex-api-mock";
import { isolateEachTest, postZapier, RELAY, runConsumer } from "../helpers/relay";

const ADMIN = { authorization: "Bearer admin-test-token" };

async function page(path = "/console", init: RequestInit = {}) {
  const res = await exports.default.fetch(`${RELAY}${path}`, { ...init, headers: { ...ADMIN, ...init.headers } });
  return { status: res.status, type: res.headers.get("content-type"), html: await res.text() };
}

isolateEachTest();

describe("GET /console", () => {
  it("shows deliveries with their decisions, commands, dead letters, the rule tester and the configuration's health", async () => {
    mockDexApi();
    const { json, queued } = await postZapier({ id: "c-1", severity: "critical", title: "VPN packet loss", user_email: JANE.personEmail });
    await runConsumer(queued);
    const { status, type, html } = await page();
    expect(status).toBe(200);
    expect(type).toContain("text/html");
    expect(html).toContain(json.delivery_id);
    expect(html).toContain("JANE-MBP");
    expect(html.match(/<tr class="command">/g)).toHaveLength(2);
    for (const id of ["health", "deliveries", "commands", "rule-tester", "dead-letters"]) expect(html).toContain(`id="${id}"`);
    expect(html).toContain("6 rules loaded");
  });

  it("escapes everything an alert carries", async () => {
    mockDexApi();
    const { queued } = await postZapier({
      id: "c-2",
      severity: "info",
      title: '<script>alert("x")</script><img src=x onerror=1>',
      user_email: JANE.personEmail,
    });
    await runConsumer(queued);
    const { html } = await page();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;");
  });

  it("keeps filters in the URL and applies them to both lists", async () => {
    mockDexApi();
    const { queued } = await postZapier({ id: "c-3", severity: "info", title: "Printer offline", user_email: JANE.personEmail });
    await runConsumer(queued);
    const { html } = await page("/console?outcome=created&device=SAM-XPS13");
    expect(html).toContain("No delivery matches.");
    expect(html).toContain("No command matches.");
    expect(html).toContain('value="SAM-XPS13"');
    expect(html).toMatch(/<option value="created" selected>/);
  });

  it("shows a bad filter where it applies and the rest of the page", async () => {
    mockDexApi();
    const { status, html } = await page("/console?since=yesterday");
    expect(status).toBe(200);
    expect(html).toContain("query.since:");
    expect(html).toContain('id="rule-tester"');
  });

  it("runs the rule tester from its form and shows why a rule did not match", async () => {
    mockDexApi();
    const body = new URLSearchParams({
      source: "zapier",
      payload: JSON.stringify({ id: "t", title: "Calls freezing", severity: "critical", user_email: JANE.personEmail }),
      rules: "",
    });
    const { status, html } = await page("/console/rules/test", {
      method: "POST",
      headers: { origin: RELAY, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(status).toBe(200);
    expect(html).toContain('id="tester-result"');
    expect(html).toMatch(/vpn-packet-loss-pcap<\/td><td><span class="bad">title<\/span>/);
    expect(html).toContain("would-create");
  });

  it("shows the tester's refusal in the page", async () => {
    mockDexApi();
    const body = new URLSearchParams({ source: "zapier", payload: "{}", rules: '[{"name":"x","command":{"type":"traceroute"}}]' });
    const { html } = await page("/console/rules/test", {
      method: "POST",
      headers: { origin: RELAY, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(html).toMatch(/id="tester-error">RULES\[0\]\.command\.type/);
  });
});
