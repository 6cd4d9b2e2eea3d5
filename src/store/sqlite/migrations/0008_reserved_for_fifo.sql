-- Placeholder, not a migration of this feature: number 8 belongs to the FIFO
-- branch (issue 12, item 1). This file exists only so that the transformation
-- branch's migrations run 1..9 without a gap; it is deleted when the FIFO
-- branch, whose 0008 replaces it, is merged.
SELECT 1;
