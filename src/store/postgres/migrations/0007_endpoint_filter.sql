-- An endpoint's payload filter (docs/delivery.md, "Filters"): a Mongo-style
-- JSON object, checked when it is stored and evaluated at publish; null
-- (every existing endpoint) means every payload.
ALTER TABLE endpoints ADD COLUMN filter JSONB;
