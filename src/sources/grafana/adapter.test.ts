/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signGrafana } from "../../../test/helpers/sign";
import { expectRefusal, rawDelivery } from "../../../test/sources/adapter-suite";
import { grafana } from "./adapter";
import contactPointTest from "./fixtures/contact-point-test.json?raw";
import firing from "./fixtures/dns-latency.firing.json?raw";
import { GRAFANA_SIGNATURE_HEADER, TIMESTAMP_TOLERANCE_SECONDS } from "./signature";

const NOW = new Date("2026-03-12T09:44:12Z");
const BEARER = { Authorization: `Bearer ${env.GRAFANA_TOKEN}` };
const TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp";

async function signed(body: string, secret: string = env.GRAFANA_WEBHOOK_SECRET, extra: Record<string, string> = {}) {
  return rawDelivery(body, { [GRAFANA_SIGNATURE_HEADER]: await signGrafana(body, secret), ...extra });
}

/** The test bindings with some of Grafana's changed. */
function envWith(bindings: Record<string, string | undefined>): Env {
  return { ...env, ...bindings } as Env;
}

describe("grafana.verify", () => {
  it("says which bindings to set when both are unset", async () => {
    await expectRefusal(
      grafana.verify(await signed(firing), envWith({ GRAFANA_WEBHOOK_SECRET: undefined, GRAFANA_TOKEN: " " }), NOW),
      401,
      /^this source is disabled: neither GRAFANA_WEBHOOK_SECRET nor GRAFANA_TOKEN is set$/,
    );
  });

  it("never lets a bearer token rescue a wrong signature", async () => {
    const delivery = await signed(firing, "grafana-revoked-secret", BEARER);
    await expectRefusal(grafana.verify(delivery, env, NOW), 401, /^signature does not match$/);
  });

  it("never lets a bearer token rescue an empty signature header", async () => {
    const delivery = rawDelivery(firing, { [GRAFANA_SIGNATURE_HEADER]: "", ...BEARER });
    await expectRefusal(grafana.verify(delivery, env, NOW), 401, /^signature does not match$/);
  });

  it("refuses a signed delivery while only GRAFANA_TOKEN is set, even with a good token", async () => {
    const delivery = await signed(firing, env.GRAFANA_WEBHOOK_SECRET, BEARER);
    await expectRefusal(
      grafana.verify(delivery, envWith({ GRAFANA_WEBHOOK_SECRET: "" }), NOW),
      401,
      /^signed deliveries are disabled: GRAFANA_WEBHOOK_SECRET is not set$/,
    );
  });

  it("takes a bearer token while only GRAFANA_TOKEN is set", async () => {
    await expect(grafana.verify(rawDelivery(firing, BEARER), envWith({ GRAFANA_WEBHOOK_SECRET: "" }), NOW)).resolves.toBeUndefined();
  });

  it("asks for the signature while only GRAFANA_WEBHOOK_SECRET is set", async () => {
    await expectRefusal(
      grafana.verify(rawDelivery(firing, BEARER), envWith({ GRAFANA_TOKEN: undefined }), NOW),
      401,
      /^missing X-Grafana-Alerting-Signature header; bearer tokens are disabled: GRAFANA_TOKEN is not set$/,
    );
  });

  it("names both headers when a delivery has neither", async () => {
    await expectRefusal(grafana.verify(rawDelivery(firing), env, NOW), 401, /^missing X-Grafana-Alerting-Signature or Authorization header$/);
  });

  describe("with GRAFANA_TIMESTAMP_HEADER set", () => {
    const timed = envWith({ GRAFANA_TIMESTAMP_HEADER: TIMESTAMP_HEADER });
    const nowSeconds = NOW.getTime() / 1000;

    async function stamped(timestamp: number) {
      return rawDelivery(firing, {
        [GRAFANA_SIGNATURE_HEADER]: await signGrafana(firing, env.GRAFANA_WEBHOOK_SECRET, timestamp),
        [TIMESTAMP_HEADER]: String(timestamp),
      });
    }

    it("accepts a fresh signature over timestamp:body", async () => {
      await expect(grafana.verify(await stamped(nowSeconds - 2), timed, NOW)).resolves.toBeUndefined();
    });

    it("refuses the same request replayed later, against the clock it is given", async () => {
      const later = new Date(NOW.getTime() + (TIMESTAMP_TOLERANCE_SECONDS + 60) * 1000);
      await expectRefusal(grafana.verify(await stamped(nowSeconds - 2), timed, later), 401, /^timestamp is too old$/);
    });

    it("refuses a delivery signed without a timestamp", async () => {
      await expectRefusal(grafana.verify(await signed(firing), timed, NOW), 401, /^missing X-Grafana-Alerting-Signature-Timestamp header$/);
    });
  });
});

describe("grafana.receive", () => {
  it("takes the contact point's test notification, which has no values and no generator URL", async () => {
    expect(await grafana.receive(await signed(contactPointTest))).toEqual({
      alerts: [
        {
          source: "grafana",
          episode: "grafana:57c6d9296de2ad39:2026-03-12T09:51:03.157076+01:00",
          title: "Notification test",
          severity: undefined,
          firing: true,
          status: "firing",
          labels: { alertname: "TestAlert", instance: "Grafana" },
          target: { hostname: "Grafana" },
        },
      ],
    });
  });
});
