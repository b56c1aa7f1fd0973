package imports

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/testpg"
	"villageplan/layers"
)

// batchRecord is one row of villageplan.edit_batch.
type batchRecord struct {
	ref                         int64
	actor                       string
	inserted, updated, deleted  int64
	insertedIDs, deletedIDs     string
	historyRows, expandedInsert int64
}

func batchOf(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, batch, layer string) batchRecord {
	t.Helper()
	var b batchRecord
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) OVER (), id, actor, inserted, updated, deleted,
			inserted_ids::text, deleted_ids::text,
			(SELECT count(*) FROM villageplan.edit_history WHERE batch_id = $1),
			(SELECT count(*) FROM villageplan.edit_history_all WHERE batch_id = $1 AND layer = $2 AND action = 'insert')
		FROM villageplan.edit_batch WHERE batch_id = $1 AND layer = $2`, batch, layer).Scan(&rows, &b.ref, &b.actor,
		&b.inserted, &b.updated, &b.deleted, &b.insertedIDs, &b.deletedIDs, &b.historyRows, &b.expandedInsert); err != nil {
		t.Fatalf("edit_batch for batch %s layer %s: %v", batch, layer, err)
	}
	if rows != 1 {
		t.Fatalf("edit_batch has %d rows for batch %s layer %s, want 1", rows, batch, layer)
	}
	return b
}

// TestCompactImportHistory: an import is recorded as one edit_batch row per
// batch and layer (ids, counts, actor), a replace import keeps the prior
// state of every deleted feature (one is restored from the record and
// compared), and plain-SQL edits afterwards still get full before/after rows.
func TestCompactImportHistory(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	farm := layer(t, "permanent_farmland")
	file := realData(t, "osm/derived/north-bayreuth_landuse_agri.geojson")
	opts := Options{Map: []string{"osm_id,osm_way_id=yjjbnttbbh", "landuse=dlmc"}, Set: []string{"dlbm=0103"}, Actor: "测试员 alice"}

	first, err := Import(ctx, pool, farm, []string{file}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b1 := batchOf(t, pool, first.BatchID, farm.ID)
	var ids string
	if err := pool.QueryRow(ctx, `SELECT range_agg(int8range(id, id, '[]'))::text FROM `+farm.QualifiedTable()).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if b1.actor != "测试员 alice" || b1.inserted != 390 || b1.updated != 0 || b1.deleted != 0 || b1.insertedIDs != ids ||
		b1.deletedIDs != "{}" || b1.historyRows != 0 || b1.expandedInsert != 390 {
		t.Errorf("append batch record = %+v, want actor 测试员 alice, 390 inserted with ids %s, no per-row history, 390 expanded inserts", b1, ids)
	}

	// The state of every feature before the replace, read from the layer.
	type state struct{ key, dlmc, ewkb string }
	snapshot := func() map[int64]state {
		rows, err := pool.Query(ctx, `SELECT id, yjjbnttbbh, coalesce(dlmc, ''), encode(ST_AsEWKB(geom), 'hex') FROM `+farm.QualifiedTable())
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]state{}
		for rows.Next() {
			var id int64
			var s state
			if err := rows.Scan(&id, &s.key, &s.dlmc, &s.ewkb); err != nil {
				t.Fatal(err)
			}
			m[id] = s
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := snapshot()

	opts.Mode = Replace
	opts.Actor = "测试员 bob"
	second, err := Import(ctx, pool, farm, []string{file}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b2 := batchOf(t, pool, second.BatchID, farm.ID)
	if b2.actor != "测试员 bob" || b2.deleted != 390 || b2.inserted != 390 || b2.deletedIDs != ids || b2.historyRows != 0 {
		t.Errorf("replace batch record = %+v, want 390 deleted with ids %s and 390 inserted", b2, ids)
	}

	// Every deleted feature's prior state is in the record, exactly.
	rows, err := pool.Query(ctx, `SELECT feature_id, attrs ->> 'yjjbnttbbh', coalesce(attrs ->> 'dlmc', ''), encode(ST_AsEWKB(geom), 'hex')
		FROM villageplan.edit_batch_prior WHERE batch_ref = $1`, b2.ref)
	if err != nil {
		t.Fatal(err)
	}
	prior := map[int64]state{}
	for rows.Next() {
		var id int64
		var s state
		if err := rows.Scan(&id, &s.key, &s.dlmc, &s.ewkb); err != nil {
			t.Fatal(err)
		}
		prior[id] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(prior) != len(before) || len(before) != 390 {
		t.Fatalf("prior states: %d recorded, %d deleted", len(prior), len(before))
	}
	for id, s := range before {
		if prior[id] != s {
			t.Errorf("feature %d: recorded prior state %+v, was %+v", id, prior[id], s)
		}
	}
	var viewDeletes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.edit_history_all
		WHERE batch_id = $1 AND action = 'delete' AND before ->> 'yjjbnttbbh' IS NOT NULL AND before ->> 'geom' IS NOT NULL`, second.BatchID).Scan(&viewDeletes); err != nil {
		t.Fatal(err)
	}
	if viewDeletes != 390 {
		t.Errorf("edit_history_all shows %d deletes with prior state for the replace batch, want 390", viewDeletes)
	}

	// Restore one deleted feature from the record (after deleting its
	// replacement, which has the same key) and compare with what it was.
	var oldID int64
	for id := range before {
		if oldID == 0 || id < oldID {
			oldID = id
		}
	}
	var cols []string
	for _, f := range farm.Fields {
		cols = append(cols, layers.QuoteIdent(f.Name))
	}
	fields := strings.Join(cols, ", ")
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var replacement int64
	if err := tx.QueryRow(ctx, `DELETE FROM `+farm.QualifiedTable()+` WHERE yjjbnttbbh = $1 RETURNING id`, before[oldID].key).Scan(&replacement); err != nil {
		t.Fatal(err)
	}
	var restored int64
	if err := tx.QueryRow(ctx, `INSERT INTO `+farm.QualifiedTable()+` (`+fields+`, geom)
		SELECT `+fields+`, p.geom FROM villageplan.edit_batch_prior p,
			jsonb_populate_record(NULL::`+farm.QualifiedTable()+`, p.attrs) r
		WHERE p.batch_ref = $1 AND p.feature_id = $2 RETURNING id`, b2.ref, oldID).Scan(&restored); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var equal, sameAttrs bool
	if err := pool.QueryRow(ctx, `SELECT ST_Equals(n.geom, ST_GeomFromEWKB(decode($2, 'hex'))) AND ST_AsEWKB(n.geom) = decode($2, 'hex'),
			n.yjjbnttbbh = $3 AND n.dlmc = $4 AND n.dlbm = '0103'
		FROM `+farm.QualifiedTable()+` n WHERE n.id = $1`, restored, before[oldID].ewkb, before[oldID].key, before[oldID].dlmc).Scan(&equal, &sameAttrs); err != nil {
		t.Fatal(err)
	}
	if !equal || !sameAttrs {
		t.Errorf("feature %d restored as %d: geometry equal %v, attributes equal %v", oldID, restored, equal, sameAttrs)
	}

	// Plain SQL (no villageplan.history): full rows, also for the delete
	// and insert of the restore above.
	if _, err := pool.Exec(ctx, `UPDATE `+farm.QualifiedTable()+` SET dlmc = '改后' WHERE id = $1`, restored); err != nil {
		t.Fatal(err)
	}
	type rowRec struct {
		action                      string
		beforeDlmc, afterDlmc       *string
		hasBeforeGeom, hasAfterGeom bool
	}
	hrows, err := pool.Query(ctx, `SELECT action, before ->> 'dlmc', after ->> 'dlmc', before ? 'geom', after ? 'geom'
		FROM villageplan.edit_history WHERE layer = $1 AND feature_id IN ($2, $3) AND batch_id IS NULL ORDER BY id`, farm.ID, replacement, restored)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := pgx.CollectRows(hrows, func(r pgx.CollectableRow) (rowRec, error) {
		var x rowRec
		var bg, ag *bool
		err := r.Scan(&x.action, &x.beforeDlmc, &x.afterDlmc, &bg, &ag)
		x.hasBeforeGeom, x.hasAfterGeom = bg != nil && *bg, ag != nil && *ag
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].action != "delete" || !recs[0].hasBeforeGeom || recs[1].action != "insert" || !recs[1].hasAfterGeom ||
		recs[2].action != "update" || recs[2].beforeDlmc == nil || *recs[2].beforeDlmc != before[oldID].dlmc ||
		recs[2].afterDlmc == nil || *recs[2].afterDlmc != "改后" || !recs[2].hasBeforeGeom || !recs[2].hasAfterGeom {
		t.Errorf("plain-SQL history rows = %+v, want delete, insert and a full update %q → 改后", recs, before[oldID].dlmc)
	}

	// The old feature's life, from both records in order.
	erows, err := pool.Query(ctx, `SELECT action, batch_id, actor FROM villageplan.feature_edits($1, $2)`, farm.ID, oldID)
	if err != nil {
		t.Fatal(err)
	}
	var life []string
	for erows.Next() {
		var a, b, who string
		if err := erows.Scan(&a, &b, &who); err != nil {
			t.Fatal(err)
		}
		life = append(life, a+" "+b+" "+who)
	}
	if err := erows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"insert " + first.BatchID + " 测试员 alice", "delete " + second.BatchID + " 测试员 bob"}
	if strings.Join(life, "|") != strings.Join(want, "|") {
		t.Errorf("feature_edits(%d) = %q, want %q", oldID, life, want)
	}
}
