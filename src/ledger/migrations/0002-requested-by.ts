/**
 * Migration 2: who asked for a command started on demand (an operator's email, "admin token",
 * a PagerDuty user), for the audit trail and the reports. NULL for every command an alert
 * started, and for every row written before this step.
 */
export const REQUESTED_BY = `
ALTER TABLE commands ADD COLUMN requested_by TEXT;
`;
