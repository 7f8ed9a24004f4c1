import { describe, expect, it } from "vitest";
import {
  DELIVERY_PREFIX,
  deliveryKey,
  DEVICE_LIST_PREFIX,
  deviceListKey,
  DEVICES_PREFIX,
  devicesKey,
  FLEET_PREFIX,
  fleetKey,
  REDELIVERY_PREFIX,
  redeliveryKey,
} from "./kv-keys";

/** Keys are stored: a change of shape orphans what KV already holds, so the shapes are pinned here. */
describe("the KV keyspace", () => {
  it("keys a delivery record by its id", () => {
    expect(deliveryKey("0b8e7c1a-2f0c-4f6e-9f7e-3c1d2b4a5e6f.2")).toBe("delivery:0b8e7c1a-2f0c-4f6e-9f7e-3c1d2b4a5e6f.2");
  });

  it("keys a redelivery id by source, so two senders' ids never meet", () => {
    expect(redeliveryKey("pagerduty", "8e0b7e4a")).toBe("redelivery:pagerduty:8e0b7e4a");
    expect(redeliveryKey("webhook", "8e0b7e4a")).not.toBe(redeliveryKey("pagerduty", "8e0b7e4a"));
  });

  it("keys a device search by a hash of account and term, never the term itself", async () => {
    const key = await devicesKey("acct", "jane.doe@example.com");
    expect(key).toMatch(/^devices:[0-9a-f]{64}$/);
    expect(await devicesKey("acct", "jane.doe@example.com")).toBe(key);
    expect(await devicesKey("other-acct", "jane.doe@example.com")).not.toBe(key);
  });

  it("keys the account's device list and what is known of its fleet by account", () => {
    expect(deviceListKey("acct")).toBe("device-list:acct");
    expect(fleetKey("acct")).toBe("fleet:acct");
  });

  it("has prefixes that are not prefixes of each other", () => {
    const prefixes = [DELIVERY_PREFIX, REDELIVERY_PREFIX, DEVICES_PREFIX, DEVICE_LIST_PREFIX, FLEET_PREFIX];
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(a.startsWith(b)).toBe(false);
  });
});
