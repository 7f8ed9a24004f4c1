/**
 * Migration 3: approval before sending (rules with `approval`). A command that needs it waits
 * as `awaiting-approval` with the secret its Slack buttons carry and when it expires; who
 * decided, how and when is kept for the audit trail; `approval_reported` says which reports
 * about it are written (0 none, 1 the request, 2 the refusal or expiry). Every column is
 * nullable or defaulted, so the release before runs over this schema and keeps its own
 * commands moving; the commands in the states this release adds (`awaiting-approval`,
 * `denied`, `approval-expired`) it would neither send nor show, so roll back only once none
 * awaits approval.
 */
export const APPROVALS_SCHEMA = `
ALTER TABLE commands ADD COLUMN approval_secret TEXT;
ALTER TABLE commands ADD COLUMN approval_expires_at INTEGER;
ALTER TABLE commands ADD COLUMN approval_by TEXT;
ALTER TABLE commands ADD COLUMN approval_via TEXT;
ALTER TABLE commands ADD COLUMN approval_at INTEGER;
ALTER TABLE commands ADD COLUMN approval_reported INTEGER NOT NULL DEFAULT 0;
`;
