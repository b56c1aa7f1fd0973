-- +goose Up
-- villageplan schema, version 1: the bookkeeping tables (edit history, layer
-- versions, layer metadata) and one table per catalog layer (layers/*.go).
-- Geometry is stored in CGCS2000 geographic (EPSG:4490) with a generated
-- Web-Mercator copy (EPSG:3857) for tiles; both have GiST indexes.

CREATE SCHEMA IF NOT EXISTS villageplan;

-- Every layer edit: who, when, which feature, the row before and after.
-- Written by statement-level triggers (villageplan.record_edit), so edits
-- made by imports, the API and by analysts in psql/QGIS are all recorded.
CREATE TABLE villageplan.edit_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id text,
    layer text NOT NULL,
    feature_id bigint,
    action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    before jsonb,
    after jsonb
);
CREATE INDEX edit_history_layer_feature_idx ON villageplan.edit_history (layer, feature_id);
CREATE INDEX edit_history_batch_idx ON villageplan.edit_history (batch_id) WHERE batch_id IS NOT NULL;

-- One row per layer; version is bumped by every statement that changes the
-- layer, so tile caches and ETags can tell when data changed. A NOTIFY on
-- channel villageplan_layer_changed carries the layer id.
CREATE TABLE villageplan.layer_version (
    layer text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Where a layer's content came from (sample data, an import batch …).
CREATE TABLE villageplan.layer_metadata (
    layer text PRIMARY KEY,
    source text NOT NULL,
    is_sample boolean NOT NULL DEFAULT false,
    attribution text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    details jsonb
);

-- +goose StatementBegin
CREATE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_count bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, after)
        SELECT v_batch, v_layer, n.id, 'insert', v_actor, to_jsonb(n) - 'geom_3857' FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, after)
        SELECT v_batch, v_layer, n.id, 'update', v_actor, to_jsonb(o) - 'geom_3857', to_jsonb(n) - 'geom_3857'
        FROM new_rows n JOIN old_rows o ON o.id = n.id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before)
        SELECT v_batch, v_layer, o.id, 'delete', v_actor, to_jsonb(o) - 'geom_3857' FROM old_rows o;
    END IF;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count > 0 THEN
        INSERT INTO villageplan.layer_version AS lv (layer, version, updated_at)
        VALUES (v_layer, 1, clock_timestamp())
        ON CONFLICT (layer) DO UPDATE SET version = lv.version + 1, updated_at = clock_timestamp();
        PERFORM pg_notify('villageplan_layer_changed', v_layer);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION villageplan.forbid_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE of layer table %.% is not allowed: use DELETE so that the edit history keeps the removed features', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported';
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- track_layer attaches the edit-history triggers to a layer table.
-- PostgreSQL allows transition tables only on single-event triggers, hence
-- three triggers.
CREATE FUNCTION villageplan.track_layer(tbl regclass, layer text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER record_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION villageplan.record_edit(%L)', tbl, layer);
    EXECUTE format('CREATE TRIGGER record_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION villageplan.record_edit(%L)', tbl, layer);
    EXECUTE format('CREATE TRIGGER record_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION villageplan.record_edit(%L)', tbl, layer);
    EXECUTE format('CREATE TRIGGER forbid_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION villageplan.forbid_truncate()', tbl);
    INSERT INTO villageplan.layer_version (layer) VALUES (layer) ON CONFLICT DO NOTHING;
END;
$$;
-- +goose StatementEnd

CREATE TABLE villageplan.villages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xzqdm varchar(12) NOT NULL,
    xzqmc text NOT NULL,
    czlx text NOT NULL,
    designation text,
    households integer,
    population integer,
    township_code varchar(9),
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX villages_geom_idx ON villageplan.villages USING gist (geom);
CREATE INDEX villages_geom_3857_idx ON villageplan.villages USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.villages', 'villages');

CREATE TABLE villageplan.land_use (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbbh varchar(8),
    dlbm varchar(5) NOT NULL,
    dlmc text,
    zldwdm varchar(19),
    zldwmc text,
    xzqdm varchar(12),
    tbmj double precision,
    czcsxm varchar(4),
    sjnf integer,
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX land_use_geom_idx ON villageplan.land_use USING gist (geom);
CREATE INDEX land_use_geom_3857_idx ON villageplan.land_use USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.land_use', 'land_use');

CREATE TABLE villageplan.permanent_farmland (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    yjjbnttbbh varchar(20) NOT NULL,
    tbbh varchar(8),
    dlbm varchar(5) NOT NULL,
    dlmc text,
    zldwdm varchar(19),
    xzqdm varchar(12),
    yjjbntmj double precision,
    bhkssj date,
    bhjssj date,
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX permanent_farmland_geom_idx ON villageplan.permanent_farmland USING gist (geom);
CREATE INDEX permanent_farmland_geom_3857_idx ON villageplan.permanent_farmland USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.permanent_farmland', 'permanent_farmland');

CREATE TABLE villageplan.control_zones (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gkbjlxmc text NOT NULL,
    name text,
    legal_basis text,
    approval text,
    xzqdm varchar(12),
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX control_zones_geom_idx ON villageplan.control_zones USING gist (geom);
CREATE INDEX control_zones_geom_3857_idx ON villageplan.control_zones USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.control_zones', 'control_zones');

CREATE TABLE villageplan.hazard_zones (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    grade text,
    hazard_type text,
    name text,
    source text,
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX hazard_zones_geom_idx ON villageplan.hazard_zones USING gist (geom);
CREATE INDEX hazard_zones_geom_3857_idx ON villageplan.hazard_zones USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.hazard_zones', 'hazard_zones');

CREATE TABLE villageplan.homesteads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    zddm varchar(19) NOT NULL,
    bdcdyh varchar(28),
    xzqdm varchar(12) NOT NULL,
    zl text,
    zdmj double precision,
    approval_number text,
    approved_on date,
    status text NOT NULL,
    household_id text,
    holder_name text,
    holder_id_number varchar(18),
    geom geometry(MultiPolygon, 4490) NOT NULL,
    geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX homesteads_geom_idx ON villageplan.homesteads USING gist (geom);
CREATE INDEX homesteads_geom_3857_idx ON villageplan.homesteads USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.homesteads', 'homesteads');

CREATE TABLE villageplan.water_pipelines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text,
    kind text NOT NULL,
    diameter_mm integer,
    material text,
    built_year integer,
    facility text,
    geom geometry(MultiLineString, 4490) NOT NULL,
    geom_3857 geometry(MultiLineString, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX water_pipelines_geom_idx ON villageplan.water_pipelines USING gist (geom);
CREATE INDEX water_pipelines_geom_3857_idx ON villageplan.water_pipelines USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.water_pipelines', 'water_pipelines');

CREATE TABLE villageplan.power_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text,
    voltage_kv double precision NOT NULL,
    laying text NOT NULL,
    operator text,
    geom geometry(MultiLineString, 4490) NOT NULL,
    geom_3857 geometry(MultiLineString, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX power_lines_geom_idx ON villageplan.power_lines USING gist (geom);
CREATE INDEX power_lines_geom_3857_idx ON villageplan.power_lines USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.power_lines', 'power_lines');

CREATE TABLE villageplan.roads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lxbm varchar(10),
    lxmc text,
    admin_grade text NOT NULL,
    tech_grade text,
    subgrade_width double precision,
    pavement_width double precision,
    surface text,
    built_year integer,
    length_km double precision,
    maintainer text,
    road_chief text,
    condition text,
    xzqdm varchar(12),
    geom geometry(MultiLineString, 4490) NOT NULL,
    geom_3857 geometry(MultiLineString, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX roads_geom_idx ON villageplan.roads USING gist (geom);
CREATE INDEX roads_geom_3857_idx ON villageplan.roads USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.roads', 'roads');

CREATE TABLE villageplan.water_facilities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    scale_class text,
    capacity_m3d double precision,
    villages_served text,
    population_served integer,
    source_type text,
    built_year integer,
    operator text,
    geom geometry(Point, 4490) NOT NULL,
    geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX water_facilities_geom_idx ON villageplan.water_facilities USING gist (geom);
CREATE INDEX water_facilities_geom_3857_idx ON villageplan.water_facilities USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.water_facilities', 'water_facilities');

CREATE TABLE villageplan.streetlights (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pole_id text NOT NULL,
    xzqdm varchar(12),
    lxbm varchar(10),
    light_source text,
    power_w double precision,
    pole_height double precision,
    supply text,
    control text,
    status text NOT NULL,
    installed_on date,
    last_inspected date,
    maintainer text,
    geom geometry(Point, 4490) NOT NULL,
    geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX streetlights_geom_idx ON villageplan.streetlights USING gist (geom);
CREATE INDEX streetlights_geom_3857_idx ON villageplan.streetlights USING gist (geom_3857);
SELECT villageplan.track_layer('villageplan.streetlights', 'streetlights');


CREATE UNIQUE INDEX villages_xzqdm_key ON villageplan.villages (xzqdm);
CREATE INDEX homesteads_xzqdm_idx ON villageplan.homesteads (xzqdm);
CREATE INDEX homesteads_household_idx ON villageplan.homesteads (household_id) WHERE household_id IS NOT NULL;
CREATE INDEX land_use_dlbm_idx ON villageplan.land_use (dlbm);
CREATE INDEX control_zones_kind_idx ON villageplan.control_zones (gkbjlxmc);

-- +goose Down
DROP SCHEMA villageplan CASCADE;
