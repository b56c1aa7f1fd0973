-- +goose Up
-- The homestead application (宅基地和建房（规划许可）申请) from 申请 to 登记
-- (DOMAIN.md §2; 农经发〔2019〕6号), its events, uploaded documents, the
-- 批准书号 counters, records of earlier house transfers (R16) and the
-- administrator's corrections of the working-day calendar.

-- Corrections of the working-day calendar (package workdays): a row wins
-- over the State Council's calendar shipped in the library.
CREATE TABLE villageplan.workday_overrides (
    day date PRIMARY KEY,
    is_workday boolean NOT NULL,
    note text NOT NULL CHECK (note <> ''),
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE villageplan.workday_overrides IS
  '工作日日历的管理员更正（覆盖国务院办公厅放假安排）。 Administrator corrections of the working-day calendar.';

CREATE TABLE villageplan.applications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    village_code varchar(12) NOT NULL CHECK (village_code ~ '^[0-9]{12}$'),
    township_code varchar(9) NOT NULL,
    state text NOT NULL,
    -- optimistic concurrency: every change bumps it (the ETag)
    version integer NOT NULL DEFAULT 1,
    -- the 申请表 (applications.Form as JSON)
    form jsonb NOT NULL,
    -- copies of form fields for search and the household rules
    applicant_name text NOT NULL,
    household_ids text[] NOT NULL,  -- 身份证号 of 户主 and every member
    address text NOT NULL DEFAULT '',
    -- the proposed site in EPSG:4490 and its current siting check
    site geometry(MultiPolygon, 4490),
    site_area_m2 double precision,
    check_id bigint REFERENCES villageplan.siting_checks (id),
    check_verdict text,
    -- step records (公示, opinions, decision, staking, inspection …)
    steps jsonb NOT NULL DEFAULT '{}'::jsonb,
    accepted_on date,
    approval_number text UNIQUE,
    approved_on date,
    staked geometry(MultiPolygon, 4490),
    built geometry(MultiPolygon, 4490),
    homestead_id bigint,      -- the parcel registered by 登记
    old_homestead_id bigint,  -- the current homestead (现宅基地) in the layer, if linked
    step_started_on date NOT NULL DEFAULT current_date,
    due_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    is_sample boolean NOT NULL DEFAULT false
);
CREATE INDEX applications_village_state_idx ON villageplan.applications (village_code, state);
CREATE INDEX applications_state_due_idx ON villageplan.applications (state, due_on);
CREATE INDEX applications_household_idx ON villageplan.applications USING gin (household_ids);
CREATE INDEX applications_site_idx ON villageplan.applications USING gist (site);
COMMENT ON TABLE villageplan.applications IS
  '农村宅基地和建房（规划许可）申请（含个人信息）。 Homestead applications (personal data).';

-- Every transition: who, in which role, when, from which state to which,
-- with its note and payload. Appended only.
CREATE TABLE villageplan.application_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES villageplan.applications (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    actor_role text NOT NULL,
    action text NOT NULL,
    from_state text,
    to_state text NOT NULL,
    note text NOT NULL DEFAULT '',
    payload jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX application_events_app_idx ON villageplan.application_events (application_id, id);

CREATE TABLE villageplan.application_documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES villageplan.applications (id),
    kind text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes bigint NOT NULL,
    sha256 char(64) NOT NULL,
    content bytea NOT NULL,
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (octet_length(content) = size_bytes)
);
CREATE INDEX application_documents_app_idx ON villageplan.application_documents (application_id);

-- 批准书号 counters: one row per township and year, locked by the approving
-- transaction (no gaps, no duplicates; a rolled-back approval never
-- committed its number).
CREATE TABLE villageplan.approval_counters (
    township_code varchar(9) NOT NULL,
    year integer NOT NULL,
    last integer NOT NULL,
    PRIMARY KEY (township_code, year)
);

-- R16 (土地管理法 第六十二条第五款): a household member who sold, rented or
-- gave away a rural house before. Recorded by the township; a match
-- refuses a new application, as does the applicant's own declaration.
CREATE TABLE villageplan.house_transfers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_number varchar(18) NOT NULL,
    kind text NOT NULL CHECK (kind IN ('出卖', '出租', '赠与')),
    transferred_on date,
    note text NOT NULL DEFAULT '',
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX house_transfers_id_idx ON villageplan.house_transfers (id_number);

-- +goose Down
DROP TABLE villageplan.house_transfers;
DROP TABLE villageplan.approval_counters;
DROP TABLE villageplan.application_documents;
DROP TABLE villageplan.application_events;
DROP TABLE villageplan.applications;
DROP TABLE villageplan.workday_overrides;
