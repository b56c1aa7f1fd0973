-- +goose Up
-- Compact history for bulk loads. Until now every row an import or the
-- sample loader wrote was copied, geometry and all, into edit_history: on
-- the county sample that was 57 % of the database. A bulk load is one event,
-- so it is now recorded as one row per batch and layer (edit_batch) with the
-- ids it inserted, updated and deleted as id ranges, plus the prior state of
-- every feature it changed or removed (edit_batch_prior, geometry stored as
-- geometry, not as text). Inserted rows need no copy: the row in the layer
-- table is the inserted state until a later edit records it as its "before".
--
-- Which recording a statement gets is chosen by the session:
--   SET LOCAL villageplan.history = 'batch'   together with
--   SET LOCAL villageplan.batch_id = '…'      → compact (edit_batch)
-- anything else (QGIS, psql, the API) → one edit_history row per feature with
-- full before/after, exactly as before. 'batch' without a batch id also falls
-- back to full rows, so nothing is ever recorded without a way to find it.
--
-- For auditors:
--   * villageplan.edit_history_all expands both records into one row per
--     feature and action (columns of edit_history plus "recorded"):
--     who (actor), when (at), which batch (batch_id), which feature
--     (layer, feature_id) and its prior state (before, same shape as
--     edit_history.before: the attributes, id and hex EWKB under "geom").
--     For a batch, "after" is NULL: the feature's state after the batch is
--     the current row, or the "before" of the next edit of that feature.
--   * villageplan.feature_edits(layer, id) lists one feature's edits in
--     order from both records (index-friendly: use it for a single feature).
--   * edit_batch_prior holds, per batch and feature, the state the feature
--     had before the batch first touched it (a feature updated twice in one
--     batch keeps its pre-batch state). To restore a deleted feature:
--       INSERT INTO villageplan.<layer> (<fields>, geom)
--       SELECT (jsonb_populate_record(NULL::villageplan.<layer>, p.attrs)).<field>, …, p.geom
--       FROM villageplan.edit_batch_prior p WHERE p.batch_ref = … AND p.feature_id = …;
--
-- Ids of edit_batch come from edit_history's sequence, so the id of
-- edit_history_all orders row and batch events together.

CREATE TABLE villageplan.edit_batch (
    id bigint PRIMARY KEY DEFAULT nextval(pg_get_serial_sequence('villageplan.edit_history', 'id')::regclass),
    batch_id text NOT NULL,
    layer text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    -- feature ids (the layer's id column) per action, as ranges [a,b)
    inserted_ids int8multirange NOT NULL DEFAULT '{}',
    updated_ids int8multirange NOT NULL DEFAULT '{}',
    deleted_ids int8multirange NOT NULL DEFAULT '{}',
    -- rows affected, summed over the batch's statements
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    deleted bigint NOT NULL DEFAULT 0,
    statements integer NOT NULL DEFAULT 0,
    last_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (batch_id, layer)
);
COMMENT ON TABLE villageplan.edit_batch IS
    'Compact edit record of a bulk load (villageplan.history = batch): one row per batch and layer, feature ids as ranges; prior states in edit_batch_prior. Expanded per feature by the view edit_history_all.';
CREATE INDEX edit_batch_layer_idx ON villageplan.edit_batch (layer, id);

CREATE TABLE villageplan.edit_batch_prior (
    batch_ref bigint NOT NULL REFERENCES villageplan.edit_batch (id),
    feature_id bigint NOT NULL,
    -- the feature's columns except id, geom and generated columns
    attrs jsonb NOT NULL,
    -- the feature's geometry, exactly as stored (EPSG:4490)
    geom geometry NOT NULL,
    PRIMARY KEY (batch_ref, feature_id)
);
COMMENT ON TABLE villageplan.edit_batch_prior IS
    'State of each feature a batch updated or deleted, as it was before the batch first touched it.';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_compact boolean := v_batch IS NOT NULL AND current_setting('villageplan.history', true) = 'batch';
    v_count bigint;
    v_ids int8multirange;
    v_ref bigint;
    v_statements integer;
    v_new text;
    v_old text;
    v_attrs text;
BEGIN
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
                -- The first statement of the batch on this layer cannot
                -- meet a recorded feature: a plain INSERT, cheaper than
                -- ON CONFLICT; later ones keep the first (pre-batch) state.
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
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, after)
                SELECT $1, $2, n.id, ''insert'', $3, %s FROM new_rows n', v_new) USING v_batch, v_layer, v_actor;
        ELSIF TG_OP = 'UPDATE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, after)
                SELECT $1, $2, n.id, ''update'', $3, %s, %s FROM new_rows n JOIN old_rows o ON o.id = n.id', v_old, v_new)
                USING v_batch, v_layer, v_actor;
        ELSIF TG_OP = 'DELETE' THEN
            EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before)
                SELECT $1, $2, o.id, ''delete'', $3, %s FROM old_rows o', v_old) USING v_batch, v_layer, v_actor;
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

-- One row per feature and action from both records. "recorded" says where
-- the row comes from: 'row' (edit_history) or 'batch' (edit_batch). Batch
-- rows carry the prior state in "before" (same shape as edit_history:
-- attributes, "id" and the geometry as hex EWKB under "geom") and no "after".
CREATE VIEW villageplan.edit_history_all AS
SELECT h.id, h.batch_id, h.layer, h.feature_id, h.action, h.actor, h.at, h.before, h.after, 'row'::text AS recorded
  FROM villageplan.edit_history h
UNION ALL
SELECT b.id, b.batch_id, b.layer, f.feature_id, a.action, b.actor, b.at,
       CASE WHEN p.feature_id IS NOT NULL THEN
            p.attrs || jsonb_build_object('id', p.feature_id, 'geom', encode(ST_AsEWKB(p.geom), 'hex')) END,
       NULL::jsonb, 'batch'::text
  FROM villageplan.edit_batch b
 CROSS JOIN LATERAL (VALUES ('delete', b.deleted_ids), ('insert', b.inserted_ids), ('update', b.updated_ids)) AS a (action, ids)
 CROSS JOIN LATERAL unnest(a.ids) AS r (rng)
 CROSS JOIN LATERAL generate_series(lower(r.rng), upper(r.rng) - 1) AS f (feature_id)
  LEFT JOIN villageplan.edit_batch_prior p ON a.action <> 'insert' AND p.batch_ref = b.id AND p.feature_id = f.feature_id;
COMMENT ON VIEW villageplan.edit_history_all IS
    'Every layer edit, one row per feature and action: edit_history (recorded = row) and the compact batch record edit_batch expanded (recorded = batch; before = prior state, after NULL: the next edit''s before or the current row).';

-- +goose StatementBegin
-- feature_edits lists the edits of one feature (layer id, feature id) in
-- order, from both records, in the shape of edit_history_all. It reads the
-- batch record only for batches whose id ranges contain the feature.
CREATE FUNCTION villageplan.feature_edits(p_layer text, p_feature_id bigint)
RETURNS SETOF villageplan.edit_history_all
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT h.id, h.batch_id, h.layer, h.feature_id, h.action, h.actor, h.at, h.before, h.after, 'row'::text AS recorded
          FROM villageplan.edit_history h
         WHERE h.layer = p_layer AND h.feature_id = p_feature_id
        UNION ALL
        SELECT b.id, b.batch_id, b.layer, p_feature_id, a.action, b.actor, b.at,
               CASE WHEN p.feature_id IS NOT NULL THEN
                    p.attrs || jsonb_build_object('id', p.feature_id, 'geom', encode(ST_AsEWKB(p.geom), 'hex')) END,
               NULL::jsonb, 'batch'::text
          FROM villageplan.edit_batch b
         CROSS JOIN LATERAL (VALUES ('delete', b.deleted_ids), ('insert', b.inserted_ids), ('update', b.updated_ids)) AS a (action, ids)
          LEFT JOIN villageplan.edit_batch_prior p ON a.action <> 'insert' AND p.batch_ref = b.id AND p.feature_id = p_feature_id
         WHERE b.layer = p_layer AND a.ids @> p_feature_id
    ) e
    ORDER BY e.id, CASE e.action WHEN 'insert' THEN 0 WHEN 'update' THEN 1 ELSE 2 END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION villageplan.feature_edits(text, bigint);
DROP VIEW villageplan.edit_history_all;
DROP TABLE villageplan.edit_batch_prior;
DROP TABLE villageplan.edit_batch;
-- record_edit of migration 3 (full rows only):
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_count bigint;
    v_new text;
    v_old text;
BEGIN
    SELECT 'jsonb_build_object(' || string_agg(format('%L, %%1$s.%I', attname, attname), ', ' ORDER BY attnum) ||
           ', ''geom'', encode(ST_AsEWKB(%1$s.geom), ''hex''))'
      INTO v_new
      FROM pg_attribute
     WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('geom', 'geom_3857');
    v_old := format(v_new, 'o');
    v_new := format(v_new, 'n');
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, after)
            SELECT $1, $2, n.id, ''insert'', $3, %s FROM new_rows n', v_new) USING v_batch, v_layer, v_actor;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before, after)
            SELECT $1, $2, n.id, ''update'', $3, %s, %s FROM new_rows n JOIN old_rows o ON o.id = n.id', v_old, v_new)
            USING v_batch, v_layer, v_actor;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('INSERT INTO villageplan.edit_history (batch_id, layer, feature_id, action, actor, before)
            SELECT $1, $2, o.id, ''delete'', $3, %s FROM old_rows o', v_old) USING v_batch, v_layer, v_actor;
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
