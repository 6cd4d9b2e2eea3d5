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

-- Day partitions copy the parent's CHECK constraints when they are created
-- (herald_add_partitions, migration 11), so the ones added from now on carry it.
