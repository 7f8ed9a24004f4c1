import type { Channel } from "./channels";

/** One report back about a delivery's commands, for the audit trail. */
export interface ReportEntry {
  id: string;
  channel: Channel;
  event: string;
  state: "pending" | "sending" | "sent" | "failed";
  attempts: number;
  reason?: string;
}
