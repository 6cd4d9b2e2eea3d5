
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE applications (
  id TEXT COLLATE "C" PRIMARY KEY,
  uid TEXT UNIQUE,
  name TEXT NOT NULL,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE event_types (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  schema JSON,
  examples JSON NOT NULL DEFAULT '[]',
  archived BOOLEAN NOT NULL DEFAULT false,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE endpoints (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  events JSONB,
  channels JSONB,
  status TEXT NOT NULL,
  disabled_reason TEXT,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at BIGINT,
  headers JSONB NOT NULL DEFAULT '{}',
  authentication JSONB,
  timeout_ms INTEGER,
  rate_limit INTEGER,
  metadata JSONB NOT NULL DEFAULT '{}',
  last_success_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX endpoints_by_app ON endpoints(app_id, id);

CREATE TABLE messages (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  event_id TEXT,
  payload TEXT NOT NULL,
  channels JSONB,
  created_at BIGINT NOT NULL
);
CREATE INDEX messages_by_app ON messages(app_id, id);
CREATE UNIQUE INDEX messages_by_event_id ON messages(app_id, event_id) WHERE event_id IS NOT NULL;

-- One row per message x endpoint. While a worker holds a delivery, next_attempt_at
-- is its lease deadline: an expired lease is simply due again. Rows are updated
-- two or three times in their life; the free space lets most updates stay on
-- their page.
CREATE TABLE deliveries (
  id TEXT COLLATE "C" PRIMARY KEY,
  message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  app_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  schedule_index INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  lease_owner TEXT,
  cycle_started_at BIGINT,
  last_attempt_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);
CREATE UNIQUE INDEX deliveries_by_message ON deliveries(message_id, endpoint_id);
-- The claim's index: only pending rows are in it, so its size follows the
-- queue, not the history (claim cost stays flat with millions of finished rows).
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries(endpoint_id, created_at);

-- Append-only log of HTTP attempts. No foreign keys: inserts stay cheap, and the
-- rows are removed explicitly with their endpoint, application or message.
CREATE TABLE attempts (
  id TEXT COLLATE "C" PRIMARY KEY,
  delivery_id TEXT COLLATE "C" NOT NULL,
  message_id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  attempt_number INTEGER NOT NULL,
  url TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  duration_ms INTEGER NOT NULL,
  success BOOLEAN NOT NULL,
  status_code INTEGER,
  response_headers JSON,
  response_body TEXT,
  error_kind TEXT,
  error_message TEXT
);
CREATE INDEX attempts_by_message ON attempts(message_id, id);
CREATE INDEX attempts_by_endpoint ON attempts(endpoint_id, id);

-- Admin API keys created through the API; only the SHA-256 of each key is kept.
CREATE TABLE admin_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);

-- Herald's own events (contract §5), kept for the dashboard. No foreign keys:
-- the log outlives the endpoints and applications it talks about.
CREATE TABLE operational_events (
  id TEXT COLLATE "C" PRIMARY KEY,
  type TEXT NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  message_id TEXT COLLATE "C",
  data JSON NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX operational_events_by_app ON operational_events(app_id, id);
CREATE INDEX operational_events_by_endpoint ON operational_events(endpoint_id, id);

-- Delivering processes that are attached (see workers.ts): a row whose owner no
-- longer holds its presence lock is a process that died, and its leases are
-- taken back. Kept apart from the deliveries, so that finding the dead costs
-- nothing on the hot path (no index on lease_owner to maintain per claim).
CREATE TABLE workers (
  owner TEXT PRIMARY KEY,
  attached_at BIGINT NOT NULL
);
