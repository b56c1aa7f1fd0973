-- +goose Up
-- Layers and fields of the 乡村建设行动 (issue 14), as declared in the
-- catalog (layers/public_facilities.go, layers/natural_hamlets.go,
-- layers/roads.go, layers/homesteads.go). The CHECK and UNIQUE rules
-- (code lists, patterns, minimums) and the topology trigger of
-- natural_hamlets are rendered from the catalog and applied after the
-- migrations by db.ApplyRules and db.ApplyTopology; this migration only
-- creates the columns, their NOT NULL, the indexes and the history
-- triggers (villageplan.track_layer).

-- 公共服务设施: points of the village service, safety and sanitation
-- facilities.
CREATE TABLE villageplan.public_facilities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    state text NOT NULL,
    capacity_persons integer,
    area_m2 double precision,
    xzqdm varchar(12),
    hamlet text,
    built_year integer,
    operator text,
    geom geometry(Point, 4490) NOT NULL,
    geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX public_facilities_geom_idx ON villageplan.public_facilities USING gist (geom);
CREATE INDEX public_facilities_geom_3857_idx ON villageplan.public_facilities USING gist (geom_3857);
CREATE INDEX public_facilities_kind_idx ON villageplan.public_facilities (kind, state);
CREATE INDEX public_facilities_xzqdm_idx ON villageplan.public_facilities (xzqdm);
SELECT villageplan.track_layer('villageplan.public_facilities', 'public_facilities');

-- 自然屯: the settled extent of each natural hamlet.
CREATE TABLE villageplan.natural_hamlets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    xzqdm varchar(12) NOT NULL,
    households integer,
    population integer,
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX natural_hamlets_geom_idx ON villageplan.natural_hamlets USING gist (geom);
CREATE INDEX natural_hamlets_geom_3857_idx ON villageplan.natural_hamlets USING gist (geom_3857);
CREATE INDEX natural_hamlets_xzqdm_idx ON villageplan.natural_hamlets (xzqdm);
SELECT villageplan.track_layer('villageplan.natural_hamlets', 'natural_hamlets');

-- Survey flags of the road and house tasks. Adding nullable columns
-- without a default rewrites no row (and writes no history).
ALTER TABLE villageplan.roads
    ADD COLUMN hardened boolean,
    ADD COLUMN main_road boolean,
    ADD COLUMN fire_lane boolean,
    ADD COLUMN lit boolean;
ALTER TABLE villageplan.homesteads
    ADD COLUMN danger_grade text,
    ADD COLUMN toilet_done boolean,
    ADD COLUMN water_connected boolean;

-- +goose Down
ALTER TABLE villageplan.homesteads DROP COLUMN water_connected, DROP COLUMN toilet_done, DROP COLUMN danger_grade;
ALTER TABLE villageplan.roads DROP COLUMN lit, DROP COLUMN fire_lane, DROP COLUMN main_road, DROP COLUMN hardened;
DROP TABLE villageplan.natural_hamlets;
DROP TABLE villageplan.public_facilities;
DELETE FROM villageplan.layer_version WHERE layer IN ('public_facilities', 'natural_hamlets');
