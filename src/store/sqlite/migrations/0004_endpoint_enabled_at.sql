-- When an endpoint was last enabled. Enabling resets the failure count: a
-- delivery whose retry cycle began before that (one in flight while the
-- endpoint was enabled again) must not disable it as failing.
ALTER TABLE endpoints ADD COLUMN enabled_at BIGINT;
