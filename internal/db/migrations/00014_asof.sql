-- +goose Up
-- As-of queries ("the layer as it was at instant T", OGC API – Features
-- datetime=) and the changes between two instants (issue 13), answered from
-- an index, not by replaying edit_history.
--
-- Design: the current row of a layer table is the open version of its
-- feature; only SUPERSEDED versions are stored, in feature_versions, one row
-- per (layer, feature, validity range [valid_from, valid_to)) with the
-- feature's attributes (jsonb, as edit_batch_prior) and its geometry
-- (EPSG:4490, as stored). record_edit writes a version for every row an
-- UPDATE or DELETE touches, on both records: the per-feature edit_history
-- (service, psql, QGIS) and the compact bulk-load record edit_batch. An
-- INSERT writes no version, so a bulk load of 500,000 new rows adds nothing
-- here (its cost stays one edit_batch row); a batch that updates or deletes
-- rows pays one version row per touched feature (the same prior state it
-- already keeps in edit_batch_prior, which stays the auditors' record).
--
--   valid_to   = now() of the superseding transaction (= edit_history.at /
--                edit_batch.at of that edit);
--   valid_from = the feature's previous change: the latest of its last
--                version's valid_to and its last insert (edit_history insert
--                row or an edit_batch whose inserted_ids contain it);
--                -infinity for a feature that predates the history.
--
-- The layer as of T (features.Query.AsOf builds it, see villageplan.changed_between):
--   current rows whose id is NOT in changed_between(layer, T, infinity)
--     (features updated, deleted or inserted after T — an id multirange
--      computed once from feature_versions (layer, valid_to), edit_history
--      (layer, at) and edit_batch)
--   UNION ALL versions of the layer with valid @> T (GiST on (valid, geom)).
-- The changes between F and T: ids in changed_between(layer, F, T); the
-- state at F and at T of each, compared.
-- As-of answers start at the layer's first recorded edit
-- (villageplan.history_start); earlier instants are refused by the API.
-- Timestamps are transaction start times: two transactions that overlap are
-- ordered by when they began, as edit_history always was.

CREATE TABLE villageplan.feature_versions (
    layer text NOT NULL,
    feature_id bigint NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz NOT NULL,
    valid tstzrange GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
    -- the feature's columns except id, geom and generated columns
    attrs jsonb NOT NULL,
    -- EPSG:4490, exactly as stored in the layer
    geom geometry NOT NULL,
    -- the changeset that superseded this version (NULL: psql/QGIS/import)
    changeset_id bigint,
    -- the bulk load (edit_batch.id) that superseded it, if one did
    batch_ref bigint
);
COMMENT ON TABLE villageplan.feature_versions IS
    '要素的历史版本（有效期 [valid_from, valid_to)）。 Superseded versions of layer features with their validity range; the current row of the layer table is the open version. Written by record_edit; read by datetime= and /changes.';
-- GiST on (valid, geom) without the layer: a GiST over text needs the
-- btree_gist extension, which the service's role may not create; the layer
-- is a filter on the few versions the range and box select.
CREATE INDEX feature_versions_asof_idx ON villageplan.feature_versions USING gist (valid, geom);
CREATE INDEX feature_versions_feature_idx ON villageplan.feature_versions (layer, feature_id, valid_to);
CREATE INDEX feature_versions_to_idx ON villageplan.feature_versions (layer, valid_to);
CREATE INDEX edit_history_layer_at_idx ON villageplan.edit_history (layer, at);

-- +goose StatementBegin
-- version_start is when the current state of a feature began (see header).
CREATE FUNCTION villageplan.version_start(p_layer text, p_feature_id bigint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(greatest(
        (SELECT max(v.valid_to) FROM villageplan.feature_versions v WHERE v.layer = p_layer AND v.feature_id = p_feature_id),
        (SELECT max(h.at) FROM villageplan.edit_history h WHERE h.layer = p_layer AND h.feature_id = p_feature_id AND h.action = 'insert'),
        (SELECT max(b.at) FROM villageplan.edit_batch b WHERE b.layer = p_layer AND b.inserted_ids @> p_feature_id)),
        '-infinity'::timestamptz)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- changed_between lists the ids of a layer's features inserted, updated or
-- deleted in (p_from, p_to], as one multirange.
CREATE FUNCTION villageplan.changed_between(p_layer text, p_from timestamptz, p_to timestamptz) RETURNS int8multirange
LANGUAGE sql STABLE AS $$
    SELECT coalesce(range_agg(r), '{}'::int8multirange) FROM (
        SELECT int8range(v.feature_id, v.feature_id, '[]') AS r FROM villageplan.feature_versions v
         WHERE v.layer = p_layer AND v.valid_to > p_from AND v.valid_to <= p_to
        UNION ALL
        SELECT int8range(h.feature_id, h.feature_id, '[]') FROM villageplan.edit_history h
         WHERE h.layer = p_layer AND h.at > p_from AND h.at <= p_to AND h.action = 'insert'
        UNION ALL
        SELECT unnest(b.inserted_ids) FROM villageplan.edit_batch b
         WHERE b.layer = p_layer AND b.at > p_from AND b.at <= p_to
    ) s
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- history_start is the time of a layer's first recorded edit (NULL: none).
CREATE FUNCTION villageplan.history_start(p_layer text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT least((SELECT min(h.at) FROM villageplan.edit_history h WHERE h.layer = p_layer),
                 (SELECT min(b.at) FROM villageplan.edit_batch b WHERE b.layer = p_layer))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- record_edit of migration 12, plus a feature_versions row for every row an
-- UPDATE or DELETE supersedes, on both recording paths.
CREATE OR REPLACE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_compact boolean := v_batch IS NOT NULL AND current_setting('villageplan.history', true) = 'batch';
    v_changeset bigint;
    v_count bigint;
    v_ids int8multirange;
    v_ref bigint;
    v_statements integer;
    v_new text;
    v_old text;
    v_attrs text;
BEGIN
    BEGIN
        v_changeset := nullif(current_setting('villageplan.changeset', true), '')::bigint;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        RAISE EXCEPTION 'villageplan.changeset must be a changeset id (a whole number), not %', current_setting('villageplan.changeset', true)
            USING ERRCODE = 'invalid_parameter_value';
    END;
    IF v_compact THEN
        IF TG_OP = 'INSERT' THEN
            SELECT coalesce(range_agg(int8range(id, id, '[]')), '{}'), count(*) INTO v_ids, v_count FROM new_rows;
        ELSE
            SELECT coalesce(range_agg(int8range(id, id, '[]')), '{}'), count(*) INTO v_ids, v_count FROM old_rows;
        END IF;
        IF v_count > 0 THEN
            INSERT INTO villageplan.edit_batch AS b (batch_id, layer, actor, inserted_ids, updated_ids, deleted_ids,
                                                     inserted, updated, deleted, statements)
            VALUES (v_batch, v_layer, v_actor,
                    CASE WHEN TG_OP = 'INSERT' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'UPDATE' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'DELETE' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'INSERT' THEN v_count ELSE 0 END,
                    CASE WHEN TG_OP = 'UPDATE' THEN v_count ELSE 0 END,
                    CASE WHEN TG_OP = 'DELETE' THEN v_count ELSE 0 END, 1)
            ON CONFLICT (batch_id, layer) DO UPDATE SET
                inserted_ids = b.inserted_ids + EXCLUDED.inserted_ids,
                updated_ids = b.updated_ids + EXCLUDED.updated_ids,
                deleted_ids = b.deleted_ids + EXCLUDED.deleted_ids,
                inserted = b.inserted + EXCLUDED.inserted,
                updated = b.updated + EXCLUDED.updated,
                deleted = b.deleted + EXCLUDED.deleted,
                statements = b.statements + 1,
                last_at = clock_timestamp()
            RETURNING id, statements INTO v_ref, v_statements;
            IF TG_OP <> 'INSERT' THEN
                SELECT 'jsonb_build_object(' || string_agg(format('%L, o.%I', attname, attname), ', ' ORDER BY attnum) || ')'
                  INTO v_attrs
                  FROM pg_attribute
                 WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                   AND attname NOT IN ('id', 'geom');
                EXECUTE format('INSERT INTO villageplan.edit_batch_prior (batch_ref, feature_id, attrs, geom)
                    SELECT $1, o.id, %s, o.geom FROM old_rows o %s', coalesce(v_attrs, '''{}''::jsonb'),
                    CASE WHEN v_statements > 1 THEN 'ON CONFLICT DO NOTHING' ELSE '' END)
                    USING v_ref;
                EXECUTE format('INSERT INTO villageplan.feature_versions (layer, feature_id, valid_from, valid_to, attrs, geom, batch_ref)
                    SELECT $1, o.id, villageplan.version_start($1, o.id), now(), %s, o.geom, $2 FROM old_rows o', coalesce(v_attrs, '''{}''::jsonb'))
                    USING v_layer, v_ref;
            END IF;
        END IF;
    ELSE
        SELECT 'jsonb_build_object(' || string_agg(format('%L, %%1$s.%I', attname, attname), ', ' ORDER BY attnum) ||
               ', ''geom'', encode(ST_AsEWKB(%1$s.geom), ''hex''))'
          INTO v_new
          FROM pg_attribute
         WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('geom', 'geom_3857');
        v_old := format(v_new, 'o');
        v_new := format(v_new, 'n');
        IF TG_OP = 'INSERT' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, after, changeset_id)
                SELECT $1, $2, n.id, ''insert'', $3, %s, $4 FROM new_rows n', v_new) USING v_batch, v_layer, v_actor, v_changeset;
        ELSIF TG_OP = 'UPDATE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, after, changeset_id)
                SELECT $1, $2, n.id, ''update'', $3, %s, %s, $4 FROM new_rows n JOIN old_rows o ON o.id = n.id', v_old, v_new)
                USING v_batch, v_layer, v_actor, v_changeset;
        ELSIF TG_OP = 'DELETE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, changeset_id)
                SELECT $1, $2, o.id, ''delete'', $3, %s, $4 FROM old_rows o', v_old) USING v_batch, v_layer, v_actor, v_changeset;
        END IF;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF TG_OP <> 'INSERT' AND v_count > 0 THEN
            SELECT 'jsonb_build_object(' || string_agg(format('%L, o.%I', attname, attname), ', ' ORDER BY attnum) || ')'
              INTO v_attrs
              FROM pg_attribute
             WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
               AND attname NOT IN ('id', 'geom');
            EXECUTE format('INSERT INTO villageplan.feature_versions (layer, feature_id, valid_from, valid_to, attrs, geom, changeset_id)
                SELECT $1, o.id, villageplan.version_start($1, o.id), now(), %s, o.geom, $2 FROM old_rows o', coalesce(v_attrs, '''{}''::jsonb'))
                USING v_layer, v_changeset;
        END IF;
    END IF;
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
-- check_no_overlap is the database side of the catalog's no_overlap
-- topology rules (layers.Editing.Topology): internal/db/topology.go
-- attaches it to each layer with such rules as a constraint trigger
-- topology_<layer>_<other> (AFTER INSERT OR UPDATE OF geom, per row), so
-- edits through psql or QGIS obey the rules the service checks. It refuses
-- a row whose geometry overlaps a feature of the other layer (another
-- feature when it is the same layer) by more than the tolerance, the
-- overlap measured on the CGCS2000 3-degree Gauss-Krüger plane of the
-- row's zone (EPSG:4534–4554; on the ellipsoid outside zones 25–45), as
-- internal/editing does. Error: SQLSTATE 23P01 with the rule in Chinese
-- and English and the features involved.
--
-- Arguments: other table, tolerance in m², the rule's Chinese and English
-- text.
--
-- Bypass: a session or transaction with villageplan.topology = 'off'.
-- The service's editing path sets it (SET LOCAL; it checks the same rules
-- itself, on the state after the whole changeset, with better messages);
-- so do bulk loads (internal/imports, the sample loader: their own checks
-- run before, and a per-row check would cost a 500,000-row load dearly)
-- and the test databases of internal/testpg (fixtures insert overlapping
-- rows on purpose; a test of the rule turns it back on). It is a
-- convention, not a permission: PostgreSQL cannot restrict who sets a
-- custom setting, so an analyst who sets it in psql bypasses the rule
-- knowingly (the edit is still in the history).
CREATE FUNCTION villageplan.check_no_overlap() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_other text := TG_ARGV[0];
    v_tol float8 := TG_ARGV[1]::float8;
    v_id bigint;
    v_m2 float8;
    v_epsg int;
BEGIN
    IF coalesce(current_setting('villageplan.topology', true), '') = 'off' OR NEW.geom IS NULL OR ST_IsEmpty(NEW.geom) THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        WITH f0 AS (SELECT $1::geometry AS g, floor(ST_X(ST_Centroid($1)) / 3 + 0.5)::int AS z),
        f AS (SELECT g, z, CASE WHEN z BETWEEN 25 AND 45 THEN ST_Transform(g, 4509 + z) END AS p FROM f0)
        SELECT o.id, a.m2, CASE WHEN f.z BETWEEN 25 AND 45 THEN 4509 + f.z ELSE 0 END
          FROM f JOIN villageplan.%I o ON o.geom && f.g AND ST_Intersects(o.geom, f.g) AND NOT (%L AND o.id = $2)
         CROSS JOIN LATERAL (SELECT CASE WHEN ST_IsValid(o.geom) THEN o.geom ELSE ST_CollectionExtract(ST_MakeValid(o.geom), 3) END AS og) v
         CROSS JOIN LATERAL (SELECT CASE WHEN f.z BETWEEN 25 AND 45
                 THEN ST_Area(ST_Intersection(ST_Transform(v.og, 4509 + f.z), f.p))
                 ELSE ST_Area(ST_Intersection(v.og, f.g)::geography) END AS m2) a
         WHERE a.m2 > $3
         ORDER BY a.m2 DESC, o.id LIMIT 1$q$, v_other, v_other = TG_TABLE_NAME)
        INTO v_id, v_m2, v_epsg USING NEW.geom, NEW.id, v_tol;
    IF v_id IS NOT NULL THEN
        RAISE EXCEPTION '图层 % 的要素 % 与图层 % 的要素 % 重叠 % 平方米，超过容差 % 平方米（%）；layer % feature % overlaps layer % feature % by % m², more than the tolerance of % m² (areas on EPSG:%): %. Reshape it, or edit through the service, which lists every conflict.',
            TG_TABLE_NAME, NEW.id, v_other, v_id, round(v_m2::numeric, 2), v_tol, TG_ARGV[2],
            TG_TABLE_NAME, NEW.id, v_other, v_id, round(v_m2::numeric, 2), v_tol, v_epsg, TG_ARGV[3]
            USING ERRCODE = 'exclusion_violation', TABLE = TG_TABLE_NAME, COLUMN = 'geom',
                  CONSTRAINT = TG_NAME;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- (the topology_ triggers of internal/db/topology.go go with the function)
DROP FUNCTION villageplan.check_no_overlap() CASCADE;
DROP INDEX villageplan.edit_history_layer_at_idx;
-- record_edit of migration 12:
-- +goose StatementBegin
-- record_edit of migration 6, plus the changeset id (session setting
-- villageplan.changeset) on every edit_history row.
CREATE OR REPLACE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_compact boolean := v_batch IS NOT NULL AND current_setting('villageplan.history', true) = 'batch';
    v_changeset bigint;
    v_count bigint;
    v_ids int8multirange;
    v_ref bigint;
    v_statements integer;
    v_new text;
    v_old text;
    v_attrs text;
BEGIN
    BEGIN
        v_changeset := nullif(current_setting('villageplan.changeset', true), '')::bigint;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        RAISE EXCEPTION 'villageplan.changeset must be a changeset id (a whole number), not %', current_setting('villageplan.changeset', true)
            USING ERRCODE = 'invalid_parameter_value';
    END;
    IF v_compact THEN
        IF TG_OP = 'INSERT' THEN
            SELECT coalesce(range_agg(int8range(id, id, '[]')), '{}'), count(*) INTO v_ids, v_count FROM new_rows;
        ELSE
            SELECT coalesce(range_agg(int8range(id, id, '[]')), '{}'), count(*) INTO v_ids, v_count FROM old_rows;
        END IF;
        IF v_count > 0 THEN
            INSERT INTO villageplan.edit_batch AS b (batch_id, layer, actor, inserted_ids, updated_ids, deleted_ids,
                                                     inserted, updated, deleted, statements)
            VALUES (v_batch, v_layer, v_actor,
                    CASE WHEN TG_OP = 'INSERT' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'UPDATE' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'DELETE' THEN v_ids ELSE '{}' END,
                    CASE WHEN TG_OP = 'INSERT' THEN v_count ELSE 0 END,
                    CASE WHEN TG_OP = 'UPDATE' THEN v_count ELSE 0 END,
                    CASE WHEN TG_OP = 'DELETE' THEN v_count ELSE 0 END, 1)
            ON CONFLICT (batch_id, layer) DO UPDATE SET
                inserted_ids = b.inserted_ids + EXCLUDED.inserted_ids,
                updated_ids = b.updated_ids + EXCLUDED.updated_ids,
                deleted_ids = b.deleted_ids + EXCLUDED.deleted_ids,
                inserted = b.inserted + EXCLUDED.inserted,
                updated = b.updated + EXCLUDED.updated,
                deleted = b.deleted + EXCLUDED.deleted,
                statements = b.statements + 1,
                last_at = clock_timestamp()
            RETURNING id, statements INTO v_ref, v_statements;
            IF TG_OP <> 'INSERT' THEN
                SELECT 'jsonb_build_object(' || string_agg(format('%L, o.%I', attname, attname), ', ' ORDER BY attnum) || ')'
                  INTO v_attrs
                  FROM pg_attribute
                 WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                   AND attname NOT IN ('id', 'geom');
                EXECUTE format('INSERT INTO villageplan.edit_batch_prior (batch_ref, feature_id, attrs, geom)
                    SELECT $1, o.id, %s, o.geom FROM old_rows o %s', coalesce(v_attrs, '''{}''::jsonb'),
                    CASE WHEN v_statements > 1 THEN 'ON CONFLICT DO NOTHING' ELSE '' END)
                    USING v_ref;
            END IF;
        END IF;
    ELSE
        SELECT 'jsonb_build_object(' || string_agg(format('%L, %%1$s.%I', attname, attname), ', ' ORDER BY attnum) ||
               ', ''geom'', encode(ST_AsEWKB(%1$s.geom), ''hex''))'
          INTO v_new
          FROM pg_attribute
         WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('geom', 'geom_3857');
        v_old := format(v_new, 'o');
        v_new := format(v_new, 'n');
        IF TG_OP = 'INSERT' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, after, changeset_id)
                SELECT $1, $2, n.id, ''insert'', $3, %s, $4 FROM new_rows n', v_new) USING v_batch, v_layer, v_actor, v_changeset;
        ELSIF TG_OP = 'UPDATE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, after, changeset_id)
                SELECT $1, $2, n.id, ''update'', $3, %s, %s, $4 FROM new_rows n JOIN old_rows o ON o.id = n.id', v_old, v_new)
                USING v_batch, v_layer, v_actor, v_changeset;
        ELSIF TG_OP = 'DELETE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, changeset_id)
                SELECT $1, $2, o.id, ''delete'', $3, %s, $4 FROM old_rows o', v_old) USING v_batch, v_layer, v_actor, v_changeset;
        END IF;
        GET DIAGNOSTICS v_count = ROW_COUNT;
    END IF;
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

DROP FUNCTION villageplan.history_start(text);
DROP FUNCTION villageplan.changed_between(text, timestamptz, timestamptz);
DROP FUNCTION villageplan.version_start(text, bigint);
DROP TABLE villageplan.feature_versions;
