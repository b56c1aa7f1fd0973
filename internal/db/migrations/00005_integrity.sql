-- +goose Up
-- Integrity rules live in the database (issue 10). The CHECK and UNIQUE
-- constraints themselves are rendered from the layer catalog and applied
-- after the migrations by db.ApplyRules (internal/db/rules.go), so that a
-- code-list edit in layers/codelists.go reaches the database without a
-- hand-written migration. This migration only retires the index that the
-- generated key of villages (constraint vp_villages_xzqdm_unique)
-- replaces.
DROP INDEX IF EXISTS villageplan.villages_xzqdm_key;

-- +goose Down
ALTER TABLE villageplan.villages DROP CONSTRAINT IF EXISTS vp_villages_xzqdm_unique;
CREATE UNIQUE INDEX IF NOT EXISTS villages_xzqdm_key ON villageplan.villages (xzqdm);
