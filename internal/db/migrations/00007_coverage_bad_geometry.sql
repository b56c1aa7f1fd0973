-- +goose Up
-- coverage_outside_m2 (migration 00004) unions the layer's features at the
-- site for a coverage that includes them. A stored geometry that breaks
-- the layer's rules (invalid, or EMPTY: refused by the CHECK constraints,
-- but rows older than a rule or written while an administrator dropped it
-- remain) made GEOS throw (TopologyException) and the siting check fail.
-- Invalid features now count with their ST_MakeValid repair (polygonal
-- part), EMPTY ones are left out (they cover nothing, and an EMPTY member
-- can crash ST_UnaryUnion in PostGIS 3.3 / GEOS 3.11).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION villageplan.coverage_outside_m2(cov geometry, with_features boolean, features regclass,
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
        EXECUTE format('SELECT ST_Union(g) FROM (SELECT CASE WHEN ST_IsValid(geom) THEN geom
                ELSE ST_CollectionExtract(ST_MakeValid(geom), 3) END AS g
            FROM %s WHERE geom && $1 AND ST_Intersects(geom, $1) OFFSET 0) x WHERE NOT ST_IsEmpty(g)', features) INTO f USING site;
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION villageplan.coverage_outside_m2(cov geometry, with_features boolean, features regclass,
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
