/**
 * Migration 6: who may decide a command awaiting approval, when its rule names them
 * (`approval.approvers`): the rule's list as it was when the command was claimed, as JSON,
 * so that a change to the rules never widens who may decide a request already asked. NULL:
 * anyone who can reach the Slack buttons or the console. Nullable, so the release before runs
 * over this schema; it would let anyone decide.
 */
export const APPROVERS_SCHEMA = `
ALTER TABLE commands ADD COLUMN approval_approvers TEXT;
`;
