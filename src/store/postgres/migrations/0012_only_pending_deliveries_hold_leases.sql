-- Only a pending delivery holds a lease. Every statement that ends or moves a
-- delivery clears lease_owner, and the fenced statements of the hot path
-- (src/store/postgres/queue.ts: the completion batch, lease release, extension
-- and check) rely on it: they test the lease and not the status, so that the
-- planner finds each row by its key instead of scanning the pending ones.
-- This makes the database refuse a write that would break the rule, instead of
-- letting a finished delivery look leased. Adding it checks every existing row
-- (each partition is read once; nothing is rewritten).
-- A finished delivery's lease means nothing; one left by an older build would
-- stop the migration, so it is cleared first.
UPDATE deliveries SET lease_owner = NULL WHERE lease_owner IS NOT NULL AND status <> 'pending';
ALTER TABLE deliveries ADD CONSTRAINT deliveries_lease_only_when_pending CHECK (lease_owner IS NULL OR status = 'pending');

-- A day partition is created apart and then attached (migration 11), and
-- attaching requires it to carry the parent's CHECK constraints already: the
-- partitions added from now on copy them. Otherwise as in migration 11.
CREATE OR REPLACE FUNCTION herald_add_partitions(from_ms BIGINT, days INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
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
