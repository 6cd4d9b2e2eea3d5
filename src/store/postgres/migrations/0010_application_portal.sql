-- An application's consumer-portal settings (docs/portal.md): its theme (name,
-- logo, accent colours) and the origins allowed to embed the portal in a frame
-- (its `frame-ancestors`), as one JSON object; null (every existing
-- application) means Herald's own look and no framing.
ALTER TABLE applications ADD COLUMN portal JSONB;
