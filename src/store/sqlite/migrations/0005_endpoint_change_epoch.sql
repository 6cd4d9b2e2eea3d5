-- A counter of changes to endpoints that a delivering process must see before
-- it sends work it already holds: a delete, or an update that moved
-- updated_at or status (configuration, secret, enable, disable). A process
-- reads it before claiming and again before an attempt; when it moved, the
-- process asks the store about that work once more (src/delivery/lease-check.ts).
-- Recording a success (last_success_at) does not count.
INSERT INTO settings (key, value) VALUES ('endpoint_change_epoch', '0');

CREATE TRIGGER endpoints_changed AFTER UPDATE ON endpoints
  WHEN OLD.updated_at IS NOT NEW.updated_at OR OLD.status IS NOT NEW.status
BEGIN
  UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'endpoint_change_epoch';
END;

CREATE TRIGGER endpoints_deleted AFTER DELETE ON endpoints
BEGIN
  UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'endpoint_change_epoch';
END;
