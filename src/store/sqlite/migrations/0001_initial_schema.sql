
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  uid TEXT UNIQUE,
  name TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE event_types (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  schema TEXT,
  examples TEXT NOT NULL DEFAULT '[]',
  archived INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  events TEXT,
  channels TEXT,
  status TEXT NOT NULL,
  disabled_reason TEXT,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at INTEGER,
  headers TEXT NOT NULL DEFAULT '{}',
  authentication TEXT,
  timeout_ms INTEGER,
  rate_limit INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  last_success_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX endpoints_by_app ON endpoints(app_id, id);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  event_id TEXT,
  payload TEXT NOT NULL,
  channels TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_app ON messages(app_id, id);
CREATE UNIQUE INDEX messages_by_event_id ON messages(app_id, event_id) WHERE event_id IS NOT NULL;

-- One row per message x endpoint. While a worker holds a delivery, next_attempt_at
-- is its lease deadline: an expired lease is simply due again.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  schedule_index INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_owner TEXT,
  cycle_started_at INTEGER,
  last_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX deliveries_by_message ON deliveries(message_id, endpoint_id);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries(endpoint_id, created_at);

-- Append-only log of HTTP attempts. No foreign keys: inserts stay cheap, and the
-- rows are removed explicitly with their endpoint or application.
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  attempt_number INTEGER NOT NULL,
  url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  success INTEGER NOT NULL,
  status_code INTEGER,
  response_headers TEXT,
  response_body TEXT,
  error_kind TEXT,
  error_message TEXT
);
CREATE INDEX attempts_by_message ON attempts(message_id, id);
CREATE INDEX attempts_by_endpoint ON attempts(endpoint_id, id);
