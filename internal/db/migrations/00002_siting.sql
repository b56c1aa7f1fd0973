-- +goose Up
-- Where each layer's data is complete. A siting rule that reads a layer
-- answers REVIEW ("no data") for a site outside the layer's coverage, never
-- PASS. Filled by the sample loader and by imports.
CREATE TABLE villageplan.layer_coverage (
    layer text PRIMARY KEY,
    geom geometry(MultiPolygon, 4490) NOT NULL,
    source text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX layer_coverage_geom_idx ON villageplan.layer_coverage USING gist (geom);

-- Stored siting checks (宅基地选址审查): the site, the applicant, the rule
-- set version and the data version of every layer read, and the result, so
-- a decision can be reproduced and defended later.
CREATE TABLE villageplan.siting_checks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL DEFAULT session_user,
    household_id text,
    village_code varchar(12),
    site geometry(MultiPolygon, 4490) NOT NULL,
    input_crs integer NOT NULL,
    input_format text NOT NULL,
    verdict text NOT NULL CHECK (verdict IN ('BLOCK', 'PERMIT_PATH', 'REVIEW', 'PASS')),
    ruleset_version text NOT NULL,
    data_versions jsonb NOT NULL,
    result jsonb NOT NULL
);
CREATE INDEX siting_checks_site_idx ON villageplan.siting_checks USING gist (site);
CREATE INDEX siting_checks_household_idx ON villageplan.siting_checks (household_id) WHERE household_id IS NOT NULL;

-- +goose Down
DROP TABLE villageplan.siting_checks;
DROP TABLE villageplan.layer_coverage;
