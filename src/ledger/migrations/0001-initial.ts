/**
 * Migration 1: the ledger's tables as release 0.1.0 created them, statement for statement.
 * Release 0.1.0 ran this very SQL in every constructor and kept no record of it, so a ledger
 * it created has these tables and no `schema_migrations` row: `IF NOT EXISTS` lets this step
 * run over such a ledger without touching it, and record it as version 1. Never edit this
 * text; a change to the schema is the next numbered step.
 */
export const INITIAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS commands (
  key TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  source TEXT NOT NULL,
  alert INTEGER NOT NULL,
  episode TEXT NOT NULL,
  rule TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  cooldown_key TEXT NOT NULL,
  cooldown_until INTEGER,
  command TEXT NOT NULL,
  device_name TEXT,
  state TEXT NOT NULL,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  queued_at INTEGER NOT NULL,
  admitted_at INTEGER,
  first_sent_at INTEGER,
  last_sent_at INTEGER,
  next_at INTEGER,
  command_id TEXT UNIQUE,
  created_at INTEGER,
  status TEXT,
  filename TEXT,
  completed_date TEXT,
  report TEXT NOT NULL,
  started_reported INTEGER NOT NULL DEFAULT 0,
  finished_reported INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_by_state ON commands (state, next_at);
CREATE INDEX IF NOT EXISTS commands_by_cooldown ON commands (cooldown_key, cooldown_until);
CREATE INDEX IF NOT EXISTS commands_by_admission ON commands (admitted_at);
CREATE INDEX IF NOT EXISTS commands_by_delivery ON commands (delivery_id);
CREATE INDEX IF NOT EXISTS commands_by_status ON commands (status, created_at);
CREATE INDEX IF NOT EXISTS commands_to_report ON commands (started_reported, finished_reported, state);
CREATE TABLE IF NOT EXISTS api_budget (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  tokens REAL NOT NULL,
  refilled_at INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS limits (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  event TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  incident_id TEXT,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  reason TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_state ON reports (state, next_at);
CREATE INDEX IF NOT EXISTS reports_by_delivery ON reports (delivery_id);
`;
