-- Changes to endpoints that delivering processes must see before they send
-- work they already hold: a delete, or an update that moved updated_at or
-- status (configuration, secret, enable, disable). Announced at commit on the
-- channel herald_endpoint ("<schema> <endpoint id>"), which every worker
-- LISTENs to (src/store/postgres/workers.ts); a worker that hears one, or lost
-- its connection, asks the store about that work once more before sending it
-- (src/delivery/lease-check.ts). Recording a success (last_success_at) does not count.
CREATE FUNCTION herald_endpoint_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_endpoint', TG_TABLE_SCHEMA || ' ' || OLD.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER endpoints_changed AFTER UPDATE ON endpoints FOR EACH ROW
  WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION herald_endpoint_changed();

CREATE TRIGGER endpoints_deleted AFTER DELETE ON endpoints FOR EACH ROW
  EXECUTE FUNCTION herald_endpoint_changed();
