package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t) // already migrated from the template
	for i := 0; i < 2; i++ {
		if err := db.Migrate(ctx, pool, nil); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
	applied, embedded, err := db.SchemaVersion(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if applied != embedded || applied < 1 || embedded != db.EmbeddedVersion() {
		t.Fatalf("schema version applied=%d embedded=%d EmbeddedVersion=%d", applied, embedded, db.EmbeddedVersion())
	}
	v, err := db.Ready(ctx, pool)
	if err != nil || v != applied {
		t.Fatalf("Ready: version %d, %v; want %d", v, err, applied)
	}
	// A version table that lost its last migration is not ready.
	if _, err := pool.Exec(ctx, `DELETE FROM public.villageplan_schema_migrations WHERE version_id = $1`, applied); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Ready(ctx, pool); err == nil {
		t.Fatalf("Ready with version %d missing: ready at %d", applied, v)
	}
}

func TestMigrateFreshDatabase(t *testing.T) {
	ctx := context.Background()
	// A database without the schema: drop it, then migrate from scratch.
	pool := testpg.New(t)
	if _, err := pool.Exec(ctx, `DROP SCHEMA villageplan CASCADE; DROP TABLE public.villageplan_schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ready(ctx, pool); err == nil {
		t.Fatal("Ready on an unmigrated database: want an error")
	}
	if err := db.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ready(ctx, pool); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPostGIS(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	v, err := db.CheckPostGIS(ctx, pool)
	if err != nil || !strings.HasPrefix(v, "3.") {
		t.Fatalf("CheckPostGIS = %q, %v", v, err)
	}
	if _, err := pool.Exec(ctx, `DROP SCHEMA villageplan CASCADE; DROP EXTENSION postgis CASCADE`); err != nil {
		t.Fatal(err)
	}
	_, err = db.CheckPostGIS(ctx, pool)
	if !errors.Is(err, db.ErrNoPostGIS) || !strings.Contains(err.Error(), "CREATE EXTENSION postgis") {
		t.Fatalf("without postgis: err = %v", err)
	}
}

// TestCatalogMatchesSchema checks every layer declaration against the
// migrated database: table, geometry type and SRID, the Web-Mercator copy,
// GiST indexes, and every declared field with its type and nullability.
func TestCatalogMatchesSchema(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	for _, l := range layers.Default().Layers() {
		type col struct {
			typ      string
			nullable bool
			maxLen   *int32
		}
		cols := map[string]col{}
		rows, err := pool.Query(ctx, `SELECT column_name, data_type, is_nullable = 'YES', character_maximum_length
			FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, layers.Schema, l.Table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var c col
			if err := rows.Scan(&name, &c.typ, &c.nullable, &c.maxLen); err != nil {
				t.Fatal(err)
			}
			cols[name] = c
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if len(cols) == 0 {
			t.Errorf("layer %s: table %s.%s missing", l.ID, layers.Schema, l.Table)
			continue
		}
		for _, f := range l.Fields {
			c, ok := cols[f.Name]
			if !ok {
				t.Errorf("layer %s: field %s declared but not in the table", l.ID, f.Name)
				continue
			}
			if want := f.Type.SQLType(f.MaxLength); c.typ != want {
				t.Errorf("layer %s: field %s is %s in the table, %s in the catalog", l.ID, f.Name, c.typ, want)
			}
			if f.MaxLength > 0 && (c.maxLen == nil || int(*c.maxLen) != f.MaxLength) {
				t.Errorf("layer %s: field %s length %v, catalog %d", l.ID, f.Name, c.maxLen, f.MaxLength)
			}
			if f.Required == c.nullable {
				t.Errorf("layer %s: field %s nullable=%v but Required=%v", l.ID, f.Name, c.nullable, f.Required)
			}
			delete(cols, f.Name)
		}
		for _, fixed := range []string{"id", "geom", "geom_3857"} {
			if _, ok := cols[fixed]; !ok {
				t.Errorf("layer %s: column %s missing", l.ID, fixed)
			}
			delete(cols, fixed)
		}
		for extra := range cols {
			t.Errorf("layer %s: column %s exists in the table but not in the catalog", l.ID, extra)
		}
		for col, srid := range map[string]int{"geom": layers.StorageSRID, "geom_3857": layers.TileSRID} {
			var typ string
			var gotSRID int
			err := pool.QueryRow(ctx, `SELECT type, srid FROM geometry_columns
				WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3`, layers.Schema, l.Table, col).Scan(&typ, &gotSRID)
			if err != nil {
				t.Errorf("layer %s: geometry column %s: %v", l.ID, col, err)
				continue
			}
			if !strings.EqualFold(typ, string(l.Geometry)) || gotSRID != srid {
				t.Errorf("layer %s: %s is %s/%d, want %s/%d", l.ID, col, typ, gotSRID, l.Geometry, srid)
			}
			var indexed bool
			err = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND tablename = $2
				AND indexdef LIKE '%USING gist (' || $3 || ')%')`, layers.Schema, l.Table, col).Scan(&indexed)
			if err != nil || !indexed {
				t.Errorf("layer %s: no GiST index on %s (%v)", l.ID, col, err)
			}
		}
	}
}

// TestEditHistory checks that inserts, updates and deletes are recorded with
// actor and batch, that layer_version moves, and that TRUNCATE is refused.
func TestEditHistory(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layers.PowerLines
	var v0 int64
	if err := pool.QueryRow(ctx, `SELECT version FROM villageplan.layer_version WHERE layer = $1`, l.ID).Scan(&v0); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `SELECT set_config('villageplan.actor', 'tester', true), set_config('villageplan.batch_id', 'b-1', true)`)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO `+l.QualifiedTable()+` (name, voltage_kv, laying, geom)
		VALUES ('测试线', 10, '架空', ST_GeomFromText('MULTILINESTRING((125.7 43.6, 125.71 43.61))', 4490)) RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+l.QualifiedTable()+` SET voltage_kv = 66 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM `+l.QualifiedTable()+` WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT action, actor, coalesce(batch_id, ''), before ->> 'voltage_kv', after ->> 'voltage_kv',
			ST_GeometryType(ST_GeomFromEWKB(decode(coalesce(after, before) ->> 'geom', 'hex')))
		FROM villageplan.edit_history WHERE layer = $1 AND feature_id = $2 ORDER BY id`, l.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		action, actor, batch string
		before, after, gtype *string
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rec, error) {
		var x rec
		return x, r.Scan(&x.action, &x.actor, &x.batch, &x.before, &x.after, &x.gtype)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("history has %d records, want 3", len(recs))
	}
	if recs[0].action != "insert" || recs[0].actor != "tester" || recs[0].batch != "b-1" || recs[0].gtype == nil || *recs[0].gtype != "ST_MultiLineString" {
		t.Errorf("insert record = %+v", recs[0])
	}
	if recs[1].action != "update" || *recs[1].before != "10" || *recs[1].after != "66" {
		t.Errorf("update record = %+v", recs[1])
	}
	if recs[2].action != "delete" || *recs[2].before != "66" || recs[2].after != nil || recs[2].batch != "" || *recs[2].gtype != "ST_MultiLineString" {
		t.Errorf("delete record = %+v", recs[2])
	}
	var v1 int64
	if err := pool.QueryRow(ctx, `SELECT version FROM villageplan.layer_version WHERE layer = $1`, l.ID).Scan(&v1); err != nil {
		t.Fatal(err)
	}
	if v1 != v0+3 {
		t.Errorf("layer version %d → %d, want +3", v0, v1)
	}
	_, err = pool.Exec(ctx, `TRUNCATE `+l.QualifiedTable())
	if err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("TRUNCATE: err = %v, want refusal", err)
	}
}

// TestCompactHistory: with villageplan.history = 'batch' and a batch id,
// the statements of a transaction are recorded as one edit_batch row per
// layer (ids as ranges, counts summed, prior state = the state before the
// batch first touched the feature), layer_version still moves per
// statement, and without a batch id the edits fall back to full rows.
func TestCompactHistory(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layers.PowerLines
	var ids []int64
	rows, err := pool.Query(ctx, `INSERT INTO `+l.QualifiedTable()+` (name, voltage_kv, laying, geom)
		SELECT '线' || i, 10, '架空', ST_GeomFromText(format('MULTILINESTRING((125.7 43.%s, 125.71 43.61))', i), 4490)
		FROM generate_series(1, 3) i ORDER BY i RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != 3 {
		t.Fatalf("insert: %v %v", ids, err)
	}
	var v0 int64
	if err := pool.QueryRow(ctx, `SELECT version FROM villageplan.layer_version WHERE layer = $1`, l.ID).Scan(&v0); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('villageplan.actor', 'loader', true), set_config('villageplan.batch_id', 'b-2', true),
		set_config('villageplan.history', 'batch', true)`); err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	for _, st := range []struct {
		sql string
		arg []any
	}{
		{`UPDATE ` + l.QualifiedTable() + ` SET voltage_kv = 35`, nil},
		{`UPDATE ` + l.QualifiedTable() + ` SET voltage_kv = 66 WHERE id = $1`, []any{ids[0]}},
		{`DELETE FROM ` + l.QualifiedTable() + ` WHERE id = $1`, []any{ids[2]}},
		{`INSERT INTO ` + l.QualifiedTable() + ` (name, voltage_kv, laying, geom) SELECT name || '新', 220, laying, geom FROM ` +
			l.QualifiedTable() + ` WHERE id = $1`, []any{ids[0]}},
	} {
		if _, err := tx.Exec(ctx, st.sql, st.arg...); err != nil {
			t.Fatalf("%s: %v", st.sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var actor, updatedIDs, deletedIDs string
	var inserted, updated, deleted, statements, perRow int64
	if err := pool.QueryRow(ctx, `SELECT actor, updated_ids::text, deleted_ids::text, inserted, updated, deleted, statements,
			(SELECT count(*) FROM villageplan.edit_history WHERE batch_id = 'b-2')
		FROM villageplan.edit_batch WHERE batch_id = 'b-2' AND layer = $1`, l.ID).Scan(&actor, &updatedIDs, &deletedIDs,
		&inserted, &updated, &deleted, &statements, &perRow); err != nil {
		t.Fatal(err)
	}
	wantUpdated := fmt.Sprintf("{[%d,%d)}", ids[0], ids[2]+1)
	wantDeleted := fmt.Sprintf("{[%d,%d)}", ids[2], ids[2]+1)
	if actor != "loader" || updatedIDs != wantUpdated || deletedIDs != wantDeleted || inserted != 1 || updated != 4 || deleted != 1 ||
		statements != 4 || perRow != 0 {
		t.Errorf("edit_batch = %s %s %s ins %d upd %d del %d stmts %d, per-row %d; want loader %s %s 1 4 1 4 0",
			actor, updatedIDs, deletedIDs, inserted, updated, deleted, statements, perRow, wantUpdated, wantDeleted)
	}
	// Prior state: the state before the batch (10 kV), not 35 kV after its
	// first statement; geometry exact.
	prior, err := pool.Query(ctx, `SELECT p.feature_id, p.attrs ->> 'voltage_kv', p.attrs ->> 'name',
			ST_Equals(p.geom, ST_GeomFromText(format('MULTILINESTRING((125.7 43.%s, 125.71 43.61))', substr(p.attrs ->> 'name', 2)), 4490))
		FROM villageplan.edit_batch_prior p JOIN villageplan.edit_batch b ON b.id = p.batch_ref
		WHERE b.batch_id = 'b-2' ORDER BY p.feature_id`)
	if err != nil {
		t.Fatal(err)
	}
	type pr struct {
		id       int64
		kv, name string
		sameGeom bool
	}
	prs, err := pgx.CollectRows(prior, func(r pgx.CollectableRow) (pr, error) {
		var x pr
		return x, r.Scan(&x.id, &x.kv, &x.name, &x.sameGeom)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(prs) != 3 {
		t.Fatalf("prior states %+v, want 3", prs)
	}
	for i, p := range prs {
		if p.id != ids[i] || p.kv != "10" || p.name != fmt.Sprintf("线%d", i+1) || !p.sameGeom {
			t.Errorf("prior state %d = %+v, want id %d, 10 kV, 线%d, same geometry", i, p, ids[i], i+1)
		}
	}
	// Expanded for auditors: one row per feature and action.
	var viewRows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.edit_history_all WHERE batch_id = 'b-2' AND recorded = 'batch'
		AND (action = 'insert' AND before IS NULL OR action <> 'insert' AND (before ->> 'voltage_kv') = '10')`).Scan(&viewRows); err != nil {
		t.Fatal(err)
	}
	if viewRows != 5 {
		t.Errorf("edit_history_all: %d rows for batch b-2, want 5 (3 updates, 1 delete, 1 insert)", viewRows)
	}
	var v1 int64
	if err := pool.QueryRow(ctx, `SELECT version FROM villageplan.layer_version WHERE layer = $1`, l.ID).Scan(&v1); err != nil {
		t.Fatal(err)
	}
	if v1 != v0+4 {
		t.Errorf("layer version %d → %d, want +4 (one per statement)", v0, v1)
	}

	// 'batch' without a batch id: full rows, nothing lost.
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('villageplan.history', 'batch', true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+l.QualifiedTable()+` SET voltage_kv = 110 WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var before, after string
	if err := pool.QueryRow(ctx, `SELECT before ->> 'voltage_kv', after ->> 'voltage_kv' FROM villageplan.edit_history
		WHERE layer = $1 AND feature_id = $2 AND action = 'update'`, l.ID, ids[1]).Scan(&before, &after); err != nil || before != "35" || after != "110" {
		t.Errorf("update without batch id: before %q after %q (%v), want a full row 35 → 110", before, after, err)
	}
}
