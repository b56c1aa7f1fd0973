package coverage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"villageplan/internal/coverage"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func gk(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490)", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
}

// TestTownshipOfSeparateVillages: the township of villages that do not all
// touch (one of them in two parts) is one valid MultiPolygon with every
// part; append unions with the old coverage; a features coverage of a
// layer with no features is recorded with zero area.
func TestTownshipOfSeparateVillages(t *testing.T) {
	pool := testpg.New(t)
	ctx := context.Background()
	// A 0…1000 and B 1000…2000 touch; C is two squares 3000…3500 and
	// 4000…4500; all y 0…1000 or 0…500: 2 + 0.25 + 0.25 = 2.5 km².
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES
		('220112203300', 'A', '暂不分类', ST_Multi(`+gk(0, 0, 1000, 1000)+`)),
		('220112203301', 'B', '暂不分类', ST_Multi(`+gk(1000, 0, 2000, 1000)+`)),
		('220112203302', 'C', '暂不分类', ST_Multi(ST_Collect(`+gk(3000, 0, 3500, 500)+`, `+gk(4000, 0, 4500, 500)+`)))`); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	rec, err := coverage.Apply(ctx, tx, layers.Homesteads, coverage.Spec{Kind: coverage.Township}, true, coverage.Env{BatchID: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Coverage
	if rec.Action != coverage.Replaced || c.Kind != coverage.Township || c.AreaKM2 == nil || *c.AreaKM2 < 2.49 || *c.AreaKM2 > 2.51 ||
		len(c.Villages) != 3 || !strings.Contains(c.Source, "3 villages") || !strings.Contains(c.Source, "batch b1") {
		t.Fatalf("township of separate villages: %+v %s", rec, c.VillageList())
	}
	var typ string
	var parts int
	var valid bool
	if err := tx.QueryRow(ctx, `SELECT GeometryType(geom), ST_NumGeometries(geom), ST_IsValid(geom) FROM villageplan.layer_coverage WHERE layer = 'homesteads'`).Scan(&typ, &parts, &valid); err != nil {
		t.Fatal(err)
	}
	if typ != "MULTIPOLYGON" || parts != 3 || !valid {
		t.Fatalf("stored %s of %d parts, valid %v", typ, parts, valid)
	}
	// Extend with village A only: unchanged area, kind kept, two parts listed.
	rec, err = coverage.Apply(ctx, tx, layers.Homesteads, coverage.Spec{Kind: coverage.Villages, Codes: []string{"220112203300"}}, false, coverage.Env{BatchID: "b2"})
	if err != nil {
		t.Fatal(err)
	}
	parts2, _ := rec.Coverage.Details["parts"].([]any)
	if rec.Action != coverage.Extended || rec.Coverage.Kind != coverage.Combined || *rec.Coverage.AreaKM2 < 2.49 || *rec.Coverage.AreaKM2 > 2.51 || len(parts2) != 2 ||
		!strings.Contains(rec.Coverage.Source, "; + ") {
		t.Fatalf("extended: %+v", rec.Coverage)
	}
	// Features of an empty polygon layer.
	rec, err = coverage.Apply(ctx, tx, layers.PermanentFarmland, coverage.Spec{Kind: coverage.Features}, true, coverage.Env{})
	if err != nil || rec.Coverage == nil || *rec.Coverage.AreaKM2 != 0 || !rec.Coverage.WithFeatures || len(rec.Coverage.Villages) != 0 {
		t.Fatalf("features of an empty layer: %+v %v", rec, err)
	}
	b, err := coverage.GeoJSON(ctx, tx, layers.PermanentFarmland)
	if err != nil || !strings.Contains(string(b), `"geometry":null`) {
		t.Fatalf("GeoJSON of an empty features coverage: %s %v", b, err)
	}
}
