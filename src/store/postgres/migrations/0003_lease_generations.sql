
-- Every claim increments lease_gen; completions, releases and renewals apply
-- only to the (lease_owner, lease_gen) they were given, so a worker that lost
-- its lease (frozen past the deadline, its presence lost) cannot undo what the
-- worker that claimed the delivery after it recorded.
ALTER TABLE deliveries ADD COLUMN lease_gen INTEGER NOT NULL DEFAULT 0;
