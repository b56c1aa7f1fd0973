-- +goose Up
-- Editing through the service (issue 13, package internal/editing): every
-- edit of a layer through the OGC API – Features Part 4 routes or
-- /changesets is one changeset (author, roles, message, time), applied in
-- one transaction. A changeset of a layer that requires review (永久基本农田,
-- 生态保护红线, 村庄建设边界; layers.Editing.Review) is stored as proposed with
-- its operations and applied only when a second person approves it.
--
-- Feature-level history stays with the triggers of migrations 1/3/6: the
-- service sets villageplan.actor (the author's username),
-- villageplan.history = 'row' and villageplan.changeset (the changeset id)
-- for its transaction, and record_edit now stores the changeset id with each
-- edit_history row. Edits through psql or QGIS are recorded as before
-- (actor = villageplan.actor or the database role, changeset_id NULL);
-- `SET villageplan.changeset` is not needed for them.

CREATE TABLE villageplan.changesets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author text NOT NULL,
    author_id bigint,
    -- the roles the author held when the changeset was made
    roles text[] NOT NULL DEFAULT '{}',
    message text NOT NULL,
    created timestamptz NOT NULL DEFAULT clock_timestamp(),
    state text NOT NULL CHECK (state IN ('published', 'proposed', 'rejected')),
    -- why the changeset needed review (layer and rule), '' when it did not
    review_reason text NOT NULL DEFAULT '',
    reviewer text,
    reviewer_id bigint,
    reviewed_at timestamptz,
    review_comment text,
    published_at timestamptz,
    -- the changeset this one reverts
    reverts bigint REFERENCES villageplan.changesets (id),
    CHECK ((state = 'published') = (published_at IS NOT NULL)),
    CHECK (state <> 'rejected' OR reviewer IS NOT NULL)
);
CREATE INDEX changesets_created_idx ON villageplan.changesets (created DESC, id DESC);
CREATE INDEX changesets_state_idx ON villageplan.changesets (state) WHERE state = 'proposed';
CREATE INDEX changesets_reverts_idx ON villageplan.changesets (reverts) WHERE reverts IS NOT NULL;
COMMENT ON TABLE villageplan.changesets IS
    '变更集：经本服务的每次图层编辑（作者、角色、说明、时间、状态）。 Changesets: every layer edit through the service; proposed ones wait for a second person''s review.';

-- The operations of a changeset, in order. For a published changeset they
-- record what was done (properties and geometry after the change; for a
-- delete, before it); for a proposed one what will be done on approval.
-- base_rev is the feature's revision (xmin, the ETag) the change was made
-- against: a proposed change whose feature has moved on since is refused
-- at approval.
CREATE TABLE villageplan.changeset_changes (
    changeset_id bigint NOT NULL REFERENCES villageplan.changesets (id),
    seq integer NOT NULL,
    layer text NOT NULL,
    feature_id bigint,
    kind text NOT NULL CHECK (kind IN ('create', 'replace', 'patch', 'delete')),
    base_rev text,
    -- every attribute of the layer (personal ones included; the service
    -- filters them when it shows a changeset)
    properties jsonb,
    -- EPSG:4490, as stored in the layer
    geom geometry,
    PRIMARY KEY (changeset_id, seq)
);
CREATE INDEX changeset_changes_feature_idx ON villageplan.changeset_changes (layer, feature_id);

ALTER TABLE villageplan.edit_history ADD COLUMN changeset_id bigint;
CREATE INDEX edit_history_changeset_idx ON villageplan.edit_history (changeset_id) WHERE changeset_id IS NOT NULL;
COMMENT ON COLUMN villageplan.edit_history.changeset_id IS
    'The changeset (villageplan.changesets) of an edit made through the service; NULL for psql/QGIS edits and imports.';

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

-- +goose Down
ALTER TABLE villageplan.edit_history DROP COLUMN changeset_id;
DROP TABLE villageplan.changeset_changes;
DROP TABLE villageplan.changesets;
-- record_edit of migration 6:
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
