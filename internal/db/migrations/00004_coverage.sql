-- +goose Up
-- Coverage is part of every load (issue 10): each import, the sample
-- loader and `villageplan coverage set` record where a layer's data is
-- complete, with what kind of statement it is, a human source text, who
-- recorded it and when, and details (batch id, parts of an extended
-- coverage, area in km² and villages spanned when it was recorded).
--
-- geom is the stated area (EPSG:4490). with_features adds the layer's own
-- features to it: the safe default of a polygon import, where the data
-- itself is all that is known to be complete. Storing the flag instead of
-- the union keeps a 500 000-polygon import from paying for ST_Union; the
-- siting check unions only the features at the site. A row needs one of
-- the two. A layer without a row has no coverage (siting answers REVIEW
-- "无数据" for every rule reading it).
ALTER TABLE villageplan.layer_coverage RENAME COLUMN updated_at TO recorded_at;
ALTER TABLE villageplan.layer_coverage
    ALTER COLUMN geom DROP NOT NULL,
    ADD COLUMN with_features boolean NOT NULL DEFAULT false,
    ADD COLUMN kind text NOT NULL DEFAULT 'legacy',
    ADD COLUMN recorded_by text NOT NULL DEFAULT session_user,
    ADD COLUMN details jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE villageplan.layer_coverage SET kind = 'sample' WHERE source LIKE '示例数据%';
ALTER TABLE villageplan.layer_coverage
    ADD CONSTRAINT layer_coverage_kind_check
        CHECK (kind IN ('sample', 'township', 'villages', 'file', 'extent', 'features', 'combined', 'legacy')),
    ADD CONSTRAINT layer_coverage_area_check
        CHECK ((geom IS NOT NULL AND NOT ST_IsEmpty(geom)) OR (geom IS NULL AND with_features));

-- +goose Down
DELETE FROM villageplan.layer_coverage WHERE geom IS NULL;
ALTER TABLE villageplan.layer_coverage
    DROP CONSTRAINT layer_coverage_area_check,
    DROP CONSTRAINT layer_coverage_kind_check,
    DROP COLUMN details,
    DROP COLUMN recorded_by,
    DROP COLUMN kind,
    DROP COLUMN with_features,
    ALTER COLUMN geom SET NOT NULL;
ALTER TABLE villageplan.layer_coverage RENAME COLUMN recorded_at TO updated_at;
