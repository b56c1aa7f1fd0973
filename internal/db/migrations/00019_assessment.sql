-- +goose Up
-- 考核评估 (issue 14, package internal/assessment): the weights the
-- administrator sets per assessment year, and one snapshot per closed
-- year. Scores of an open year are computed on request from the
-- indicators and the project summary; closing a year stores them as they
-- are, so later edits of the map or of projects never change a published
-- ranking, and the next year is compared with it.

-- Weights of one year: one row per key (an indicator key of
-- internal/indicators or a project key of internal/assessment). A PUT
-- replaces the year's whole set in one transaction (audited in
-- villageplan.audit_log by the HTTP layer).
CREATE TABLE villageplan.assessment_weights (
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    weight double precision NOT NULL CHECK (weight >= 0 AND weight <= 1000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    PRIMARY KEY (year, key)
);
COMMENT ON TABLE villageplan.assessment_weights IS
    '考核评估权重（按年度，管理员设置）。 Weights of the village assessment per year, set by the administrator.';

-- A closed year: the whole result (scores, ranks, parts, weights) as the
-- service computed it when the administrator closed the year.
CREATE TABLE villageplan.assessment_snapshots (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    as_of date NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT now(),
    closed_by text NOT NULL,
    result jsonb NOT NULL
);
COMMENT ON TABLE villageplan.assessment_snapshots IS
    '已结束年度的考核评估结果快照。 Snapshot of the assessment of a closed year.';

-- +goose Down
DROP TABLE villageplan.assessment_snapshots;
DROP TABLE villageplan.assessment_weights;
