/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { signGrafana } from "../../../test/helpers/sign";
import { expectRefusal } from "../../../test/sources/adapter-suite";
import firing from "./fixtures/dns-latency.firing.json?raw";
import { GRAFANA_SIGNATURE_HEADER, TIMESTAMP_TOLERANCE_SECONDS, verifyGrafanaSignature } from "./signature";

const SECRET = "grafana-test-secret";
const TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp";
const NOW = new Date("2026-03-12T09:44:12Z");
const NOW_SECONDS = NOW.getTime() / 1000;

function headers(signature: string, timestamp?: number | string): Headers {
  const result = new Headers({ [GRAFANA_SIGNATURE_HEADER]: signature });
  if (timestamp !== undefined) result.set(TIMESTAMP_HEADER, String(timestamp));
  return result;
}

/** Headers as Grafana sends them when it signs `timestamp:body`. */
async function timestamped(timestamp: number, body = firing): Promise<Headers> {
  return headers(await signGrafana(body, SECRET, timestamp), timestamp);
}

describe("verifyGrafanaSignature without a timestamp header", () => {
  it("accepts the signature Grafana computes over the raw body", async () => {
    await expect(verifyGrafanaSignature(firing, headers(await signGrafana(firing, SECRET)), SECRET, undefined, NOW)).resolves.toBeUndefined();
  });

  it("refuses a body changed after signing", async () => {
    const signature = await signGrafana(firing, SECRET);
    const tampered = firing.replace('"firing"', '"resolved"');
    await expectRefusal(verifyGrafanaSignature(tampered, headers(signature), SECRET, undefined, NOW), 401, /^signature does not match$/);
  });

  it.each(["", "sha256=0a1b", "zz".repeat(32)])("refuses the malformed signature %j", async (signature) => {
    await expectRefusal(verifyGrafanaSignature(firing, headers(signature), SECRET, undefined, NOW), 401, /^signature does not match$/);
  });

  it("refuses a delivery without the signature header", async () => {
    await expectRefusal(verifyGrafanaSignature(firing, new Headers(), SECRET, undefined, NOW), 401, /^missing X-Grafana-Alerting-Signature header$/);
  });
});

describe("verifyGrafanaSignature with a timestamp header", () => {
  it.each([0, TIMESTAMP_TOLERANCE_SECONDS, -TIMESTAMP_TOLERANCE_SECONDS])("accepts a signature over timestamp:body made %is from now", async (offset) => {
    const at = NOW_SECONDS - offset;
    await expect(verifyGrafanaSignature(firing, await timestamped(at), SECRET, TIMESTAMP_HEADER, NOW)).resolves.toBeUndefined();
  });

  it("refuses an authentic request replayed after the tolerance", async () => {
    const replayed = await timestamped(NOW_SECONDS - TIMESTAMP_TOLERANCE_SECONDS - 1);
    await expectRefusal(verifyGrafanaSignature(firing, replayed, SECRET, TIMESTAMP_HEADER, NOW), 401, /^timestamp is too old$/);
  });

  it("refuses a timestamp further in the future than the tolerance", async () => {
    const early = await timestamped(NOW_SECONDS + TIMESTAMP_TOLERANCE_SECONDS + 1);
    await expectRefusal(verifyGrafanaSignature(firing, early, SECRET, TIMESTAMP_HEADER, NOW), 401, /^timestamp is too new$/);
  });

  it("refuses an old request whose timestamp was moved forward", async () => {
    const old = await timestamped(NOW_SECONDS - 3600);
    old.set(TIMESTAMP_HEADER, String(NOW_SECONDS));
    await expectRefusal(verifyGrafanaSignature(firing, old, SECRET, TIMESTAMP_HEADER, NOW), 401, /^signature does not match$/);
  });

  it("refuses a body changed after signing", async () => {
    const signed = await timestamped(NOW_SECONDS);
    const tampered = firing.replace("LT-0442", "LT-0443");
    await expectRefusal(verifyGrafanaSignature(tampered, signed, SECRET, TIMESTAMP_HEADER, NOW), 401, /^signature does not match$/);
  });

  it("refuses a signature over the body alone", async () => {
    const bodyOnly = headers(await signGrafana(firing, SECRET), NOW_SECONDS);
    await expectRefusal(verifyGrafanaSignature(firing, bodyOnly, SECRET, TIMESTAMP_HEADER, NOW), 401, /^signature does not match$/);
  });

  it("refuses a delivery without the timestamp", async () => {
    const untimed = headers(await signGrafana(firing, SECRET, NOW_SECONDS));
    await expectRefusal(verifyGrafanaSignature(firing, untimed, SECRET, TIMESTAMP_HEADER, NOW), 401, /^missing X-Grafana-Alerting-Signature-Timestamp header$/);
  });

  it.each(["2026-03-12T09:44:12Z", "1773308652000.5", "-1773308652", ""])("refuses the timestamp %j", async (timestamp) => {
    const odd = headers(await signGrafana(firing, SECRET, timestamp), timestamp);
    await expectRefusal(verifyGrafanaSignature(firing, odd, SECRET, TIMESTAMP_HEADER, NOW), 401, /must be a Unix time in seconds$/);
  });

  it("reports a timestamp header name that cannot exist as a configuration error", async () => {
    const signed = await timestamped(NOW_SECONDS);
    await expectRefusal(verifyGrafanaSignature(firing, signed, SECRET, "X Timestamp", NOW), 500, /^GRAFANA_TIMESTAMP_HEADER is not a valid header name$/);
  });
});
