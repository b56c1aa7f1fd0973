package editing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"villageplan/internal/auth"
	"villageplan/internal/editing"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// TestSubmitTx: a changeset inside the caller's transaction lands with it
// or not at all; a refused changeset leaves the caller's transaction
// usable and without a trace of it.
func TestSubmitTx(t *testing.T) {
	pool := testpg.New(t)
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 7, Username: "desk", Grants: []auth.Grant{{Role: auth.PlanningEditor}}})
	svc := editing.New(pool, layers.Default())
	parcel := func(zddm string, east float64) editing.Changeset {
		return editing.Changeset{Message: "批准宅基地申请 " + zddm, Operations: []editing.Operation{{Kind: editing.Create, Layer: "homesteads", CRS: "EPSG:4551",
			Feature: json.RawMessage(fmt.Sprintf(`{"type":"Feature","properties":{"zddm":%q,"xzqdm":"220112203300","status":"已批准"},
				"geometry":{"type":"Polygon","coordinates":[[[4829000,%[2]g],[4829020,%[2]g],[4829020,%[3]g],[4829000,%[3]g],[4829000,%[2]g]]]}}`, zddm, east, east+20))}}}
	}
	count := func(sql string) int {
		var n int
		if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Commit: the caller's own row and the changeset land together.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO villageplan.layer_metadata (layer, source) VALUES ('caller', 'test')`); err != nil {
		t.Fatal(err)
	}
	res, err := svc.SubmitTx(ctx, tx, parcel("220112203300JC00001", 480600), nil)
	if err != nil || res.State != editing.Published || res.Features[0].FeatureID == 0 {
		t.Fatalf("SubmitTx = %+v, %v", res, err)
	}
	// A second one that overlaps the first: refused, tx still usable.
	_, err = svc.SubmitTx(ctx, tx, parcel("220112203300JC00002", 480610), nil)
	var e *editing.Error
	if !errors.As(err, &e) || e.Code != editing.CodeTopology {
		t.Fatalf("overlapping SubmitTx = %v, want a topology error", err)
	}
	// The caller's later layer writes are not attributed to the changeset.
	if _, err := tx.Exec(ctx, `UPDATE villageplan.homesteads SET zl = '大营村' WHERE id = $1`, res.Features[0].FeatureID); err != nil {
		t.Fatalf("tx unusable after a refused changeset: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM villageplan.homesteads`); n != 1 {
		t.Errorf("%d homesteads, want 1", n)
	}
	if n := count(`SELECT count(*) FROM villageplan.layer_metadata WHERE layer = 'caller'`); n != 1 {
		t.Error("the caller's row is missing")
	}
	if n := count(`SELECT count(*) FROM villageplan.edit_history WHERE action = 'update' AND changeset_id IS NULL AND actor = 'desk'`); n != 1 {
		t.Errorf("caller's own update: %d history rows without changeset, want 1", n)
	}
	if n := count(`SELECT count(*) FROM villageplan.changesets`); n != 1 {
		t.Errorf("%d changesets, want 1", n)
	}
	// Rollback: nothing of the changeset remains.
	tx, _ = pool.Begin(ctx)
	if _, err := svc.SubmitTx(ctx, tx, parcel("220112203300JC00003", 480700), nil); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	if n := count(`SELECT (SELECT count(*) FROM villageplan.homesteads) + (SELECT count(*) FROM villageplan.changesets)`); n != 2 {
		t.Errorf("after a rolled-back transaction: %d rows, want 2", n)
	}
}
