-- +goose Up
-- 乡村建设行动 indicators computed from the map (issue 14, package
-- internal/indicators): pgRouting for the road-network indicators (reach
-- along roads to facilities, 通硬化路, 断头路, 消防车道), the targets the
-- administrator sets (耕地保有量, 永久基本农田保护目标, reach distances),
-- and a cache of computed reports keyed on the layer versions they read.
--
-- pgRouting is Debian's postgresql-15-pgrouting (3.4); it is not a trusted
-- extension, so the migration runs as a superuser or the extension is
-- created beforehand by one (the embedded cluster's role is a superuser).
CREATE EXTENSION IF NOT EXISTS pgrouting WITH SCHEMA public;

-- Targets and settings of the indicators, set by the administrator
-- (PUT /indicators/targets). village '' is the township-wide value; a
-- village's own row overrides it. Keys (indicators.TargetKeys):
--   farmland_target_m2   耕地保有量 (m²)
--   pbf_target_m2        永久基本农田保护目标 (m²)
--   reach_m:<kind>       reach distance along roads to a public facility of
--                        that kind (m), e.g. reach_m:应急避难场所
CREATE TABLE villageplan.indicator_targets (
    key text NOT NULL,
    village varchar(12) NOT NULL DEFAULT '' CHECK (village = '' OR village ~ '^[0-9]{12}$'),
    value double precision NOT NULL CHECK (value >= 0 AND value < 'infinity'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    PRIMARY KEY (key, village)
);
COMMENT ON TABLE villageplan.indicator_targets IS
    '乡村建设指标的目标值与参数（耕地保有量、永久基本农田保护目标、服务半径）。 Targets and settings of the indicators, set by the administrator.';

-- Computed reports: one row per (key of the layer versions and targets
-- read, as-of date). A layer edit bumps layer_version, so the next request
-- misses and recomputes; old rows are pruned by the service.
CREATE TABLE villageplan.indicator_cache (
    cache_key text NOT NULL,
    as_of date NOT NULL,
    report jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    compute_ms integer NOT NULL,
    PRIMARY KEY (cache_key, as_of)
);
COMMENT ON TABLE villageplan.indicator_cache IS
    '乡村建设指标计算结果缓存（按图层版本与日期）。 Cache of computed indicator reports keyed on the layer versions and the date.';

-- +goose Down
DROP TABLE villageplan.indicator_cache;
DROP TABLE villageplan.indicator_targets;
DROP EXTENSION IF EXISTS pgrouting;
