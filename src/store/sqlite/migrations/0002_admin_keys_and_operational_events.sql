
-- Admin API keys created through the API; only the SHA-256 of each key is kept.
CREATE TABLE admin_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

-- Herald's own events (contract §5), kept for the dashboard. No foreign keys:
-- the log outlives the endpoints and applications it talks about.
CREATE TABLE operational_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  app_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  message_id TEXT,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX operational_events_by_app ON operational_events(app_id, id);
CREATE INDEX operational_events_by_endpoint ON operational_events(endpoint_id, id);
