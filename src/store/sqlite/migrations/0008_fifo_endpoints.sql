-- FIFO endpoints (docs/delivery.md, "FIFO endpoints"). `ordering` is 'none'
-- (every existing endpoint) or 'fifo'. `fifo_seq` is the last sequence number
-- given to a delivery of the endpoint, taken in the publishing transaction
-- (one writer at a time: the numbers follow the commits). It moves neither
-- updated_at nor status, so it does not count as a change (migration 5).
ALTER TABLE endpoints ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE endpoints ADD COLUMN fifo_seq INTEGER NOT NULL DEFAULT 0;

-- A FIFO delivery's place in its endpoint's queue; null for the others. Of a
-- FIFO endpoint's pending deliveries only the head has a next_attempt_at; the
-- ones behind it wait "parked" with none, outside the claim's index range, so
-- the claim stays the same statement and the same cost for every endpoint.
ALTER TABLE deliveries ADD COLUMN seq INTEGER;
-- The head: the pending delivery with the lowest seq.
CREATE INDEX deliveries_fifo ON deliveries(endpoint_id, seq, id) WHERE status = 'pending' AND seq IS NOT NULL;
-- What is not parked (normally the head alone): found without reading the queue.
CREATE INDEX deliveries_fifo_active ON deliveries(endpoint_id)
  WHERE status = 'pending' AND seq IS NOT NULL AND next_attempt_at IS NOT NULL;
