-- +goose Up
-- Space of an aborted import is reclaimed without anyone running VACUUM.
-- A killed or failed `villageplan import` rolls back, but the rows it had
-- inserted stay in the layer table (and the prior states in
-- edit_batch_prior) as dead tuples until a vacuum; its staging tables are
-- TEMP … ON COMMIT DROP and vanish with the transaction. PostgreSQL counts
-- the rows of an aborted insert as dead, and autovacuum vacuums a table once
-- its dead rows pass autovacuum_vacuum_threshold +
-- autovacuum_vacuum_scale_factor × rows; the default 20 % would leave an
-- aborted import of 50,000 features into a 500,000-feature layer unclaimed
-- until further edits. Here 50 (the default) + 2 %: vacuum truncates the empty pages
-- at the end of the table (where the aborted insert wrote) and the indexes'
-- freed pages are reused by the next import. The embedded cluster's
-- autovacuum_naptime is 10 s (internal/pgcluster).
-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS tbl
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'villageplan' AND c.relkind = 'r'
          AND (c.relname IN ('edit_history', 'edit_batch', 'edit_batch_prior', 'layer_coverage')
               OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'geom' AND NOT a.attisdropped))
    LOOP
        EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02)', r.tbl);
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS tbl
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'villageplan' AND c.relkind = 'r'
          AND c.reloptions::text LIKE '%autovacuum_vacuum_scale_factor%'
    LOOP
        EXECUTE format('ALTER TABLE %s RESET (autovacuum_vacuum_scale_factor)', r.tbl);
    END LOOP;
END $$;
-- +goose StatementEnd
