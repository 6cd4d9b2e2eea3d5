-- Deliveries and attempts partitioned by time (docs/scaling.md, "Partitions on
-- PostgreSQL"), so that history costs the hot path nothing (the indexes it
-- writes are the current day's) and retention drops whole days instead of
-- deleting rows. Ids sort by creation time (src/core/ids.ts), so a range of
-- ids is a range of time: attempts are partitioned by their id, deliveries by
-- their message's id, which keeps the unique (message_id, endpoint_id) that
-- resend upserts on, and keeps a message's deliveries in one partition. The
-- messages stay one table: their idempotency key must stay unique across all
-- time.
--
-- A database converts in place: each table becomes the partition that holds
-- everything up to the end of the day the migration runs (a history partition,
-- dropped by retention once it is all older than the retention age). Its rows
-- are not copied; attaching it reads it once to check the bound, and the
-- deliveries get one new index (the primary key becomes (id, message_id), as a
-- partitioned table's must hold its key). Day partitions are added ahead by
-- herald_add_partitions (the store calls it at start and every hour); a
-- DEFAULT partition takes what falls outside them, so an insert never fails.

-- The smallest id of a kind created at `ms`: src/store/retention.ts's idFloor.
CREATE FUNCTION herald_id_floor(prefix TEXT, ms BIGINT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  alphabet CONSTANT TEXT := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  t BIGINT := greatest(ms, 0);
  s TEXT := '';
BEGIN
  FOR i IN 1..10 LOOP
    s := substr(alphabet, (t % 32)::INT + 1, 1) || s;
    t := t / 32;
  END LOOP;
  RETURN prefix || '_' || s;
END
$$;

-- Adds the day partitions (UTC days) of deliveries and attempts from the day
-- of `from_ms` to `days` days after it; returns how many it created. A day that
-- overlaps a partition already there (the history partition) is skipped, and
-- so is one that the DEFAULT partition already has rows of: those rows stay
-- there until retention deletes them. Each is created on its own (with the
-- parent's CHECK constraints, which attaching requires), then
-- attached: attaching locks the partitioned table only against other schema
-- changes (CREATE TABLE … PARTITION OF would lock out every read and write),
-- and the DEFAULT partition, briefly, for the check that it holds none of the
-- day's rows.
CREATE FUNCTION herald_add_partitions(from_ms BIGINT, days INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  day_ms CONSTANT BIGINT := 86400000;
  first BIGINT := (from_ms / day_ms) * day_ms;
  d BIGINT;
  tbl TEXT;
  part TEXT;
  prefix TEXT;
  created INTEGER := 0;
BEGIN
  FOR i IN 0..days LOOP
    d := first + i * day_ms;
    FOREACH tbl IN ARRAY ARRAY['deliveries', 'attempts'] LOOP
      part := tbl || '_' || to_char(to_timestamp(d / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD');
      prefix := CASE tbl WHEN 'deliveries' THEN 'msg' ELSE 'atmpt' END;
      CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class WHERE relname = part AND relnamespace = current_schema()::regnamespace);
      BEGIN
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) %s', part, tbl,
          CASE tbl WHEN 'deliveries' THEN 'WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02)' ELSE '' END);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', tbl, part,
          herald_id_floor(prefix, d), herald_id_floor(prefix, d + day_ms));
        created := created + 1;
      EXCEPTION WHEN invalid_object_definition OR check_violation THEN
        NULL;
      END;
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;

ALTER TABLE attempts RENAME TO attempts_history;
ALTER INDEX attempts_pkey RENAME TO attempts_history_pkey;
ALTER INDEX attempts_by_message RENAME TO attempts_history_by_message;
ALTER INDEX attempts_by_endpoint RENAME TO attempts_history_by_endpoint;

CREATE TABLE attempts (LIKE attempts_history INCLUDING DEFAULTS) PARTITION BY RANGE (id);
ALTER TABLE attempts ADD PRIMARY KEY (id);
CREATE INDEX attempts_by_message ON attempts(message_id, id);
CREATE INDEX attempts_by_endpoint ON attempts(endpoint_id, id);
CREATE TABLE attempts_default PARTITION OF attempts DEFAULT;

ALTER TABLE deliveries RENAME TO deliveries_history;
ALTER INDEX deliveries_pkey RENAME TO deliveries_history_pkey;
ALTER INDEX deliveries_by_message RENAME TO deliveries_history_by_message;
ALTER INDEX deliveries_due RENAME TO deliveries_history_due;
ALTER INDEX deliveries_by_endpoint RENAME TO deliveries_history_by_endpoint;
ALTER INDEX deliveries_fifo RENAME TO deliveries_history_fifo;
ALTER INDEX deliveries_fifo_active RENAME TO deliveries_history_fifo_active;

CREATE TABLE deliveries (LIKE deliveries_history INCLUDING DEFAULTS) PARTITION BY RANGE (message_id);
-- Statements that name a delivery by id also give its message's id, so that
-- PostgreSQL looks in one partition (src/store/postgres/queue.ts).
ALTER TABLE deliveries ADD PRIMARY KEY (id, message_id);
ALTER TABLE deliveries ADD FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD FOREIGN KEY (endpoint_id) REFERENCES endpoints(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX deliveries_by_message ON deliveries(message_id, endpoint_id);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries(endpoint_id, created_at);
CREATE INDEX deliveries_fifo ON deliveries(endpoint_id, seq, id) WHERE status = 'pending' AND seq IS NOT NULL;
CREATE INDEX deliveries_fifo_active ON deliveries(endpoint_id)
  WHERE status = 'pending' AND seq IS NOT NULL AND next_attempt_at IS NOT NULL;
CREATE TABLE deliveries_default PARTITION OF deliveries DEFAULT
  WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);

-- A table has one primary key: attaching builds the new one's index in place of this one.
ALTER TABLE deliveries_history DROP CONSTRAINT deliveries_history_pkey;

-- The old tables become the history partitions, up to the end of today (UTC).
-- Rows beyond that (ids not made by Herald's clock) go to the DEFAULT partition
-- first. An empty old table (a new database) is dropped instead: today gets a
-- day partition like every other day.
DO $$
DECLARE
  day_ms CONSTANT BIGINT := 86400000;
  upto BIGINT := ((extract(epoch FROM clock_timestamp()) * 1000)::BIGINT / day_ms + 1) * day_ms;
  a TEXT := herald_id_floor('atmpt', upto);
  m TEXT := herald_id_floor('msg', upto);
BEGIN
  IF EXISTS (SELECT 1 FROM attempts_history) THEN
    INSERT INTO attempts_default SELECT * FROM attempts_history WHERE id >= a;
    DELETE FROM attempts_history WHERE id >= a;
    EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_history FOR VALUES FROM (MINVALUE) TO (%L)', a);
  ELSE
    DROP TABLE attempts_history;
  END IF;
  IF EXISTS (SELECT 1 FROM deliveries_history) THEN
    INSERT INTO deliveries_default SELECT * FROM deliveries_history WHERE message_id >= m;
    DELETE FROM deliveries_history WHERE message_id >= m;
    EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION deliveries_history FOR VALUES FROM (MINVALUE) TO (%L)', m);
  ELSE
    DROP TABLE deliveries_history;
  END IF;
END
$$;
