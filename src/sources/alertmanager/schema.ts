import * as z from "../../model/zod";
import { lenient } from "../toolkit";

/**
 * The most alerts one notification may carry. Alertmanager's `max_alerts` (Grafana's "Max
 * alerts") truncates a group before sending; past this, the group is refused rather than
 * half-handled.
 */
export const MAX_ALERTS_PER_NOTIFICATION = 1000;

/** `fingerprint` and `startsAt` become part of the stored episode key, so both are bounded. */
const MAX_FINGERPRINT_LENGTH = 128;
const MAX_TIMESTAMP_LENGTH = 64;
const MAX_STATUS_LENGTH = 32;

/**
 * A label or annotation set. Values that are not strings are dropped when the alert is
 * mapped rather than refused here: Alertmanager does not retry a 4xx, so a refusal would
 * lose every alert of the group.
 */
const StringMap = z.record(z.string(), z.unknown());

/** One alert of a group, as Alertmanager (and Grafana, with extra fields) sends it. */
export const GroupedAlert = z.object({
  status: z.string().check(z.minLength(1), z.maxLength(MAX_STATUS_LENGTH)),
  labels: StringMap,
  annotations: lenient(StringMap),
  startsAt: z.string().check(z.minLength(1), z.maxLength(MAX_TIMESTAMP_LENGTH)),
  // Missing from hand-written or proxied payloads: the adapter derives one from the labels.
  fingerprint: z.optional(z.string().check(z.maxLength(MAX_FINGERPRINT_LENGTH))),
  generatorURL: lenient(z.string()),
});

/**
 * The part of an Alertmanager `webhook_config` notification (version 4) the relay reads.
 * Grafana's unified alerting webhook is a superset; its extra fields (`orgId`, `title`,
 * `values`, `dashboardURL`...) are not needed to find the device and are not checked.
 * @see https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export const AlertGroupNotification = z.object({
  commonLabels: lenient(StringMap),
  alerts: z
    .array(GroupedAlert)
    .check(z.maxLength(MAX_ALERTS_PER_NOTIFICATION, `at most ${MAX_ALERTS_PER_NOTIFICATION} alerts per notification; lower the receiver's max_alerts`)),
});

export type GroupedAlert = z.infer<typeof GroupedAlert>;
export type AlertGroupNotification = z.infer<typeof AlertGroupNotification>;
