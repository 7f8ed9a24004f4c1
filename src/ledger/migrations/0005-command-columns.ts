/**
 * Migration 5: each command's target as real columns instead of one JSON text, so the ledger
 * reads and filters them without parsing: `type`, `device_id`, `user_email`,
 * `registration_id`, and `args` (JSON, the one part whose shape depends on the type).
 * Rows already there are filled from their `command` JSON in the same step.
 *
 * `command` stays, and this release keeps writing it: the release before reads only that,
 * so a rollback by one release still finds every command whole. A row that release writes
 * has the new columns NULL; this release then reads its `command` (./command-rows.ts).
 */
export const COMMAND_COLUMNS_SCHEMA = `
ALTER TABLE commands ADD COLUMN type TEXT;
ALTER TABLE commands ADD COLUMN device_id TEXT;
ALTER TABLE commands ADD COLUMN user_email TEXT;
ALTER TABLE commands ADD COLUMN registration_id TEXT;
ALTER TABLE commands ADD COLUMN args TEXT;
UPDATE commands SET
  type = json_extract(command, '$.type'),
  device_id = json_extract(command, '$.device_id'),
  user_email = json_extract(command, '$.user_email'),
  registration_id = json_extract(command, '$.registration_id'),
  args = json_extract(command, '$.args')
  WHERE type IS NULL AND json_valid(command);
CREATE INDEX IF NOT EXISTS commands_by_device ON commands (device_id);
`;
