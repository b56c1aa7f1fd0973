package db_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// TestTopologyTriggersRefusePSQLOverlaps: with the catalog's no_overlap
// rules as constraint triggers, an INSERT or UPDATE through plain SQL that
// makes homesteads overlap each other or permanent farmland by more than
// the tolerance is refused by the database (SQLSTATE 23P01, the rule in
// Chinese and English); a parcel that only touches is accepted; with
// villageplan.topology = 'off' (the documented bypass) it is not checked.
func TestTopologyTriggersRefusePSQLOverlaps(t *testing.T) {
	pool := testpg.New(t) // sessions default to the bypass (testpg)
	ctx := context.Background()
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'topology\_%'`).Scan(&n)
	want := 0
	for _, l := range layers.Default().Layers() {
		want += len(l.Editing.Topology)
	}
	if n != want || want == 0 {
		t.Fatalf("%d topology triggers, want %d (one per catalog rule)", n, want)
	}
	if err := db.ApplyTopology(ctx, pool, layers.Default()); err != nil {
		t.Fatal(err)
	}
	sq := func(e, n float64) string {
		return `ST_Multi(ST_Transform(ST_MakeEnvelope(` + ftoa(e) + `, ` + ftoa(n) + `, ` + ftoa(e+20) + `, ` + ftoa(n+20) + `, 4551), 4490))`
	}
	exec := func(on bool, sql string) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if on {
			tx.Exec(ctx, `SET LOCAL villageplan.topology = 'on'`)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	ins := func(code string, geom string) string {
		return `INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom) VALUES ('220112203300JC` + code + `', '220112203300', '大营村', '已登记', ` + geom + `)`
	}
	if err := exec(true, ins("00001", sq(480600, 4829000))+`;
		INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom) VALUES ('2201122033000001', '0103', `+sq(480700, 4829000)+`)`); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, err error, other string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23P01" || !strings.Contains(pe.Message, "重叠") || !strings.Contains(pe.Message, "overlaps layer "+other) {
			t.Errorf("%s: %v, want 23P01 naming layer %s in Chinese and English", what, err, other)
		}
	}
	refused("overlapping insert", exec(true, ins("00002", sq(480610, 4829010))), "homesteads")
	refused("insert on farmland", exec(true, ins("00003", sq(480690, 4829000))), "permanent_farmland")
	// Touching along an edge is no overlap.
	if err := exec(true, ins("00004", sq(480620, 4829000))); err != nil {
		t.Fatalf("touching parcel refused: %v", err)
	}
	refused("update into an overlap", exec(true, `UPDATE villageplan.homesteads SET geom = `+sq(480605, 4829000)+` WHERE zddm = '220112203300JC00004'`), "homesteads")
	// An update that leaves geom alone is not checked; the bypass lets
	// a fixture insert overlaps on purpose.
	if err := exec(true, `UPDATE villageplan.homesteads SET zl = '大营村 1 号'`); err != nil {
		t.Errorf("attribute update refused: %v", err)
	}
	if err := exec(false, ins("00005", sq(480610, 4829010))); err != nil {
		t.Errorf("overlap with villageplan.topology = off refused: %v", err)
	}
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.homesteads`).Scan(&n)
	if n != 3 {
		t.Errorf("%d homesteads, want 3 (two refused)", n)
	}
}

func ftoa(f float64) string { return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".") }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
