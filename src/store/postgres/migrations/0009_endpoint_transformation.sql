-- An endpoint's transformation (docs/delivery.md, "Transformations"): JSON
-- {"code": "function handler(webhook) {…}", "enabled": true}, run in a sandbox
-- before each attempt; null (every existing endpoint) means none.
ALTER TABLE endpoints ADD COLUMN transformation JSONB;
