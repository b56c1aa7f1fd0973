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

-- The site area (m², on the plane of site_plane) outside a coverage: the
-- stated area cov (EPSG:4490, clipped to the site's box first) joined, when
-- with_features, by the features of table features at the site. site is
-- the site in EPSG:4490, site_plane the same site on the measuring plane.
-- The siting check calls it for every coverage row: as a function its cost
-- is opaque to the planner, so the check's statement stays below the JIT
-- threshold, and the features of only the layers that need them are read.
-- +goose StatementBegin
CREATE FUNCTION villageplan.coverage_outside_m2(cov geometry, with_features boolean, features regclass,
                                                site geometry, site_plane geometry)
RETURNS double precision LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    u geometry;
    f geometry;
BEGIN
    IF cov IS NOT NULL AND cov && site THEN
        IF ST_Covers(cov, site) THEN
            RETURN 0;
        END IF;
        u := ST_Intersection(cov, ST_Expand(ST_Envelope(site), 0.0001));
    END IF;
    IF with_features AND features IS NOT NULL THEN
        EXECUTE format('SELECT ST_Union(geom) FROM %s WHERE geom && $1 AND ST_Intersects(geom, $1)', features) INTO f USING site;
        u := CASE WHEN u IS NULL THEN f WHEN f IS NULL THEN u ELSE ST_Union(u, f) END;
    END IF;
    IF u IS NULL OR ST_IsEmpty(u) THEN
        RETURN ST_Area(site_plane);
    END IF;
    RETURN ST_Area(ST_Difference(site_plane, ST_Transform(u, ST_SRID(site_plane))));
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION villageplan.coverage_outside_m2(geometry, boolean, regclass, geometry, geometry);
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
