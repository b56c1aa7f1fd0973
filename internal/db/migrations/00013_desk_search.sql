-- +goose Up
-- The desk list at county scale (issue 12, "Performance": 20,000
-- applications, list with filters p95 ≤ 50 ms): every search arm and
-- filter of applications.List is answered from an index instead of a scan
-- of the table.
--
-- pg_trgm (a trusted extension since PostgreSQL 13: the database owner may
-- create it) indexes the case-folded applicant name, 坐落 and 批准书号 for
-- substring search. Its trigrams are made of the characters the cluster's
-- LC_CTYPE counts as letters or digits: with C.UTF-8 (the embedded
-- default's locale) or any UTF-8 locale, Chinese characters are (show_trgm
-- ('示例户主3') gives five trigrams), so a search of three or more
-- characters uses the index. Under the plain C locale they are not, and the
-- same query still answers correctly by rechecking every row (slower).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE INDEX applications_search_trgm_idx ON villageplan.applications
    USING gin (lower(applicant_name || E'\n' || address || E'\n' || coalesce(approval_number, '')) gin_trgm_ops);
-- Searches shorter than a trigram (a surname, a two-character name):
-- prefix of the name or of the 坐落, on the columns as written (such a
-- search without cased letters needs no case folding, and a prefix that
-- matches most rows is then a cheap scan rather than one lower() per row).
CREATE INDEX applications_name_prefix_idx ON villageplan.applications (applicant_name text_pattern_ops);
CREATE INDEX applications_address_prefix_idx ON villageplan.applications (address text_pattern_ops);
-- A 宗地代码 / 不动产单元号 search finds the parcel in the homesteads layer
-- (unique indexes there) and then the applications linked to it.
CREATE INDEX applications_homestead_idx ON villageplan.applications (homestead_id) WHERE homestead_id IS NOT NULL;
CREATE INDEX applications_old_homestead_idx ON villageplan.applications (old_homestead_id) WHERE old_homestead_id IS NOT NULL;
-- The year filter as a range of created_at (the year of filing, China time).
CREATE INDEX applications_created_idx ON villageplan.applications (created_at);

-- +goose Down
DROP INDEX villageplan.applications_created_idx;
DROP INDEX villageplan.applications_old_homestead_idx;
DROP INDEX villageplan.applications_homestead_idx;
DROP INDEX villageplan.applications_address_prefix_idx;
DROP INDEX villageplan.applications_name_prefix_idx;
DROP INDEX villageplan.applications_search_trgm_idx;
