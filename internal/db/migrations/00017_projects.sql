-- +goose Up
-- 乡村建设项目库 and 台账 (issue 14; 双营乡乡村建设行动实施方案): a project per
-- village, task and year with its phase, budget and funding, lead office and
-- geometry; filed by the village and checked by the township (村申报、乡审核,
-- package projects); every change in project_events; progress reports
-- with photos (JPEG/PNG, judged by their bytes) stored in the database.

CREATE TABLE villageplan.construction_projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    village_code varchar(12) NOT NULL CHECK (village_code ~ '^[0-9]{12}$'),
    township_code varchar(9) NOT NULL CHECK (township_code ~ '^[0-9]{9}$'),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    -- the plan's task (projects.Tasks: roads, water …) and its sub-item
    task text NOT NULL,
    item text NOT NULL,
    name text NOT NULL CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    phase text NOT NULL CHECK (phase IN ('谋划储备', '开工建设', '投产运营', '完成')),
    -- review status of 村申报、乡审核
    status text NOT NULL CHECK (status IN ('draft', 'filed', 'approved', 'returned')),
    version integer NOT NULL DEFAULT 1,
    -- 元 (CNY), to the fen
    budget_yuan numeric(14, 2) NOT NULL DEFAULT 0 CHECK (budget_yuan >= 0),
    spent_yuan numeric(14, 2) NOT NULL DEFAULT 0 CHECK (spent_yuan >= 0),
    -- {"财政": 1200000, "以工代赈": 300000, …}; sources and sum checked by the service
    funding jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(funding) = 'object'),
    lead_office text NOT NULL DEFAULT '',
    geom geometry(Geometry, 4490) CHECK (geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
        AND GeometryType(geom) IN ('POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'))),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    filed_by text,
    filed_at timestamptz,
    reviewed_by text,
    reviewed_at timestamptz,
    return_reason text NOT NULL DEFAULT '',
    is_sample boolean NOT NULL DEFAULT false
);
CREATE INDEX construction_projects_year_village_idx ON villageplan.construction_projects (year, village_code);
CREATE INDEX construction_projects_geom_idx ON villageplan.construction_projects USING gist (geom);
COMMENT ON TABLE villageplan.construction_projects IS
  '乡村建设项目库（村申报、乡审核）。 Rural construction projects (filed by the village, checked by the township).';

-- Every change of a project: who, in which role, when, what (changes:
-- {field: {"old": …, "new": …}}). Appended only.
CREATE TABLE villageplan.project_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES villageplan.construction_projects (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    actor_role text NOT NULL DEFAULT '',
    action text NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}'::jsonb,
    note text NOT NULL DEFAULT ''
);
CREATE INDEX project_events_project_idx ON villageplan.project_events (project_id, id);

CREATE TABLE villageplan.project_reports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES villageplan.construction_projects (id),
    reported_on date NOT NULL,
    text text NOT NULL CHECK (btrim(text) <> ''),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_reports_project_idx ON villageplan.project_reports (project_id, reported_on);

CREATE TABLE villageplan.project_photos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id bigint NOT NULL REFERENCES villageplan.project_reports (id),
    project_id bigint NOT NULL REFERENCES villageplan.construction_projects (id),
    filename text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    sha256 text NOT NULL,
    content bytea NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_photos_report_idx ON villageplan.project_photos (report_id);

-- +goose Down
DROP TABLE villageplan.project_photos;
DROP TABLE villageplan.project_reports;
DROP TABLE villageplan.project_events;
DROP TABLE villageplan.construction_projects;
