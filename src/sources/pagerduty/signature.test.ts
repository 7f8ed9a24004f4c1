/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { expectRefusal } from "../../../test/sources/adapter-suite";
import { signPagerDuty } from "../../../test/helpers/sign";
import triggered from "./fixtures/incident.triggered.json?raw";
import { MAX_SIGNATURES_EXAMINED, v1Signatures, verifyPagerDutySignature } from "./signature";

const CURRENT = "pd-secret-current";
const NEXT = "pd-secret-next";

describe("v1Signatures", () => {
  it("keeps only v1 entries, trimmed, without their prefix", () => {
    expect(v1Signatures("v1=aa11, v0=bb22 ,v1=cc33,v1=,garbage")).toEqual(["aa11", "cc33"]);
  });

  it(`stops after ${MAX_SIGNATURES_EXAMINED} signatures`, () => {
    const header = Array.from({ length: 1000 }, (_, i) => `v1=${i}`).join(",");
    expect(v1Signatures(header)).toHaveLength(MAX_SIGNATURES_EXAMINED);
  });
});

describe("verifyPagerDutySignature", () => {
  it("accepts the signature PagerDuty computes over the raw body", async () => {
    await expect(verifyPagerDutySignature(triggered, await signPagerDuty(triggered, CURRENT), [CURRENT])).resolves.toBeUndefined();
  });

  it("accepts a header signed with the old and the new secret while the relay already has only the new one", async () => {
    const header = await signPagerDuty(triggered, CURRENT, NEXT);
    await expect(verifyPagerDutySignature(triggered, header, [NEXT])).resolves.toBeUndefined();
  });

  it("accepts a header signed with the new secret while the relay still holds both", async () => {
    const header = await signPagerDuty(triggered, NEXT);
    await expect(verifyPagerDutySignature(triggered, header, [CURRENT, NEXT])).resolves.toBeUndefined();
  });

  it("refuses a request without the header", async () => {
    await expectRefusal(verifyPagerDutySignature(triggered, null, [CURRENT]), 401, /^missing X-PagerDuty-Signature header$/);
  });

  it("refuses a header that carries signatures of other versions only", async () => {
    const v1 = await signPagerDuty(triggered, CURRENT);
    await expectRefusal(verifyPagerDutySignature(triggered, v1.replace("v1=", "v2="), [CURRENT]), 401, /^X-PagerDuty-Signature has no v1 signature$/);
  });

  it("refuses a signature made with another secret", async () => {
    const header = await signPagerDuty(triggered, "pd-secret-revoked");
    await expectRefusal(verifyPagerDutySignature(triggered, header, [CURRENT]), 401, /^signature does not match$/);
  });

  it("refuses a signature that is not hex", async () => {
    await expectRefusal(verifyPagerDutySignature(triggered, `v1=${"zz".repeat(32)}`, [CURRENT]), 401, /does not match/);
  });

  it("refuses a signature of the same event serialized differently: only the raw body counts", async () => {
    const header = await signPagerDuty(triggered, CURRENT);
    const reserialized = JSON.stringify(JSON.parse(triggered));
    await expectRefusal(verifyPagerDutySignature(reserialized, header, [CURRENT]), 401, /does not match/);
  });

  it(`ignores a valid signature placed after ${MAX_SIGNATURES_EXAMINED} others`, async () => {
    const decoys = Array.from({ length: MAX_SIGNATURES_EXAMINED }, () => `v1=${"0".repeat(64)}`);
    const valid = await signPagerDuty(triggered, CURRENT);
    await expectRefusal(verifyPagerDutySignature(triggered, [...decoys, valid].join(","), [CURRENT]), 401);
    await expect(verifyPagerDutySignature(triggered, [...decoys.slice(1), valid].join(","), [CURRENT])).resolves.toBeUndefined();
  });
});
