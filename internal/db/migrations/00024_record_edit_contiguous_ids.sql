-- +goose Up
-- Issue 16, import speed: record_edit's compact (batch) path collected the
-- ids of a bulk INSERT with range_agg over every row of the transition
-- table, a sort of all ids: about 3 s of the 15 s INSERT of 200,000
-- land-use polygons on the shared 2-core machine. The ids of one INSERT
-- are almost always one contiguous run of the identity sequence; min, max
-- and count in one pass find that run, and range_agg is kept for the rest.
-- The recorded edit_batch rows are the same.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION villageplan.record_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_layer text := TG_ARGV[0];
    v_actor text := coalesce(nullif(current_setting('villageplan.actor', true), ''), session_user);
    v_batch text := nullif(current_setting('villageplan.batch_id', true), '');
    v_compact boolean := v_batch IS NOT NULL AND current_setting('villageplan.history', true) = 'batch';
    v_changeset bigint;
    v_count bigint;
    v_min bigint;
    v_max bigint;
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
        -- One pass for min, max and count; ids are unique (the primary
        -- key), so max - min + 1 = count means one contiguous run, the
        -- usual case of a bulk INSERT from the identity sequence. Only
        -- scattered ids pay for range_agg (a sort of every id).
        IF TG_OP = 'INSERT' THEN
            SELECT min(id), max(id), count(*) INTO v_min, v_max, v_count FROM new_rows;
        ELSE
            SELECT min(id), max(id), count(*) INTO v_min, v_max, v_count FROM old_rows;
        END IF;
        IF v_count = 0 THEN
            v_ids := '{}';
        ELSIF v_max - v_min + 1 = v_count THEN
            v_ids := int8multirange(int8range(v_min, v_max, '[]'));
        ELSIF TG_OP = 'INSERT' THEN
            SELECT range_agg(int8range(id, id, '[]')) INTO v_ids FROM new_rows;
        ELSE
            SELECT range_agg(int8range(id, id, '[]')) INTO v_ids FROM old_rows;
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

-- +goose Down
-- record_edit of migration 14:
-- +goose StatementBegin
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
