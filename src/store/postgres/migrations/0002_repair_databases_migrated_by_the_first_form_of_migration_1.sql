
-- Migration 1 was edited after release (a mistake: a database that had applied
-- it never got the change). This brings such a database to migration 1's final
-- form, and does nothing on one created from it.
CREATE TABLE IF NOT EXISTS workers (
  owner TEXT PRIMARY KEY,
  attached_at BIGINT NOT NULL
);
DROP INDEX IF EXISTS deliveries_leased;
DO $$
BEGIN
  IF (SELECT data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'attempts' AND column_name = 'response_headers') = 'jsonb' THEN
    ALTER TABLE attempts ALTER COLUMN response_headers TYPE JSON USING response_headers::json;
  END IF;
END $$;
