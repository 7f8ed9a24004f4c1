/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rawDelivery } from "../../../test/sources/adapter-suite";
import { datadog } from "./adapter";
import { DATADOG_PAYLOAD_TEMPLATE } from "./template";

/** What Datadog puts in place of each variable for one Triggered notification. */
const SUBSTITUTIONS: Record<string, string> = {
  $ID: "7806264543658765432",
  $ALERT_ID: "148932016",
  $ALERT_CYCLE_KEY: "7806264543658765432",
  $ALERT_TRANSITION: "Triggered",
  $EVENT_TITLE: "[Triggered on {host:lt-0442}] WARP tunnel packet loss above 5%",
  $HOSTNAME: "lt-0442",
  $ALERT_SCOPE: "host:lt-0442",
  $TAGS: "env:prod,host:lt-0442,team:it-network,user_email:marco.rossi@example.com",
  $DATE: "1773308287000",
  $LINK: "https://app.datadoghq.com/event/event?id=7806264543658765432",
  $PRIORITY: "P1",
};

/** The template as Datadog sends it, every variable replaced. */
function filledIn(substitutions: Record<string, string>): string {
  return DATADOG_PAYLOAD_TEMPLATE.replace(/\$[A-Z_]+/g, (variable) => substitutions[variable] ?? variable);
}

describe("DATADOG_PAYLOAD_TEMPLATE", () => {
  it("is JSON that uses only the variables a Datadog notification fills in", () => {
    expect(() => JSON.parse(DATADOG_PAYLOAD_TEMPLATE)).not.toThrow();
    const variables = DATADOG_PAYLOAD_TEMPLATE.match(/\$[A-Z_]+/g) ?? [];
    expect(variables.toSorted()).toEqual(Object.keys(SUBSTITUTIONS).toSorted());
  });

  it("is accepted by the adapter once Datadog has filled it in", async () => {
    const body = filledIn(SUBSTITUTIONS);
    const delivery = rawDelivery(body, { Authorization: `Bearer ${env.DATADOG_TOKEN}` });
    await expect(datadog.verify(delivery, env, new Date())).resolves.toBeUndefined();
    expect((await datadog.receive(delivery)).alerts).toEqual([
      {
        source: "datadog",
        episode: "datadog:148932016:7806264543658765432",
        title: "[Triggered on {host:lt-0442}] WARP tunnel packet loss above 5%",
        severity: "critical",
        firing: true,
        status: "Triggered",
        labels: { env: "prod", host: "lt-0442", team: "it-network", user_email: "marco.rossi@example.com", scope: "host:lt-0442", priority: "P1" },
        target: { user_email: "marco.rossi@example.com", hostname: "lt-0442" },
        refs: { event_id: "7806264543658765432", link: "https://app.datadoghq.com/event/event?id=7806264543658765432" },
      },
    ]);
  });

  it("is accepted when a monitor has no host and no tags", async () => {
    const body = filledIn({ ...SUBSTITUTIONS, $HOSTNAME: "", $TAGS: "", $ALERT_SCOPE: "" });
    const [alert] = (await datadog.receive(rawDelivery(body))).alerts;
    expect(alert?.firing).toBe(true);
    expect(alert?.target).toEqual({});
    expect(alert?.labels).toEqual({ priority: "P1" });
  });

  it("stays out of the Worker: no module under src/ but tests imports it", () => {
    const modules = import.meta.glob<string>("/src/**/*.ts", { query: "?raw", import: "default", eager: true });
    const importers = Object.entries(modules)
      .filter(([path]) => !path.endsWith(".test.ts") && path !== "/src/sources/datadog/template.ts")
      .filter(([, source]) => /from\s+["'][^"']*datadog\/template["']|from\s+["']\.\/template["']/.test(source))
      .map(([path]) => path);
    expect(Object.keys(modules)).toContain("/src/sources/datadog/adapter.ts");
    expect(importers).toEqual([]);
  });
});
