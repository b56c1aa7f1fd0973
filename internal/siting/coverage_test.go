package siting_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/siting"
)

func setCoverage(t *testing.T, pool *pgxpool.Pool, geom string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `DELETE FROM villageplan.layer_coverage;
		INSERT INTO villageplan.layer_coverage (layer, geom, source) SELECT layer, `+geom+`, 'test' FROM villageplan.layer_version`); err != nil {
		t.Fatal(err)
	}
}

func noData(res *siting.Result) []string {
	var out []string
	for _, r := range res.Rules {
		if r.NoData {
			out = append(out, r.Code)
		}
	}
	return out
}

// TestCoverageTolerance: a site is covered when its area outside a
// layer's coverage, measured on the GK plane, is within the rule set's
// overlap tolerance (1 m²): 0.5 m² outside stays covered, 5 m² outside is
// REVIEW no data with the layers named; a 1 cm sliver between two
// villages' polygons does not count; a coverage of the layer's own
// features covers a site on them and not one beside them.
func TestCoverageTolerance(t *testing.T) {
	pool := fixture(t, false)
	svc := service(t, pool)
	if svc.RuleSet().OverlapToleranceM2 != 1 {
		t.Fatalf("tolerance %v, the cases below assume 1 m²", svc.RuleSet().OverlapToleranceM2)
	}
	setCoverage(t, pool, env(-500, -500, 3000, 1000))

	// 10 m × 0.05 m = 0.5 m² beyond x = 3000.
	res := check(t, svc, square(2990, 0, 3000.05, 10), siting.Input{HouseholdID: "H-NEW"})
	if nd := noData(res); len(nd) != 0 || len(res.NoCoverage) != 0 || res.NoCoverageZH != "" {
		t.Fatalf("0.5 m² outside: no data %v, no_coverage %+v", nd, res.NoCoverage)
	}
	if src, ok := res.CoverageSources["permanent_farmland"]; !ok || src.Source != "test" || src.Kind != "legacy" || src.RecordedAt.IsZero() {
		t.Errorf("coverage sources %+v", res.CoverageSources)
	}
	// 10 m × 0.5 m = 5 m² beyond.
	res = check(t, svc, square(2990, 0, 3000.5, 10), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Review || !r.NoData || !strings.Contains(r.MessageZH, "无数据") {
		t.Fatalf("5 m² outside: %+v", r)
	}
	var gap *siting.LayerGap
	for i := range res.NoCoverage {
		if res.NoCoverage[i].Layer == "permanent_farmland" {
			gap = &res.NoCoverage[i]
		}
	}
	if gap == nil || gap.OutsideM2 == nil || !near(*gap.OutsideM2, 5, 0.01) || gap.TitleZH != "永久基本农田" ||
		!strings.Contains(res.NoCoverageZH, "永久基本农田（选址有 5.00 平方米在覆盖范围外）") || !strings.Contains(res.NoCoverageEN, "permanent_farmland") {
		t.Fatalf("no_coverage %+v\n%s\n%s", res.NoCoverage, res.NoCoverageZH, res.NoCoverageEN)
	}
	if _, ok := res.CoverageSources["permanent_farmland"]; ok {
		t.Errorf("an untrusted layer is listed as a trusted source")
	}

	// Two villages' polygons with a 1 cm gap at x = 1000: a 20 m site
	// across it has 0.2 m² outside and is covered; half of it lies on the
	// farmland parcel F (x ≥ 1000).
	setCoverage(t, pool, `ST_Multi(ST_Union(`+env(-500, -500, 1000, 1000)+`, `+env(1000.01, -500, 3000, 1000)+`))`)
	res = check(t, svc, square(990, 0, 1010, 20), siting.Input{HouseholdID: "H-NEW"})
	if nd := noData(res); len(nd) != 0 {
		t.Fatalf("site across a 1 cm sliver: no data on %v", nd)
	}
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Block || !near(*r.Measured, 200, 0.01) {
		t.Fatalf("site across the sliver: %+v", r)
	}

	// The farmland layer's coverage is its own features.
	if _, err := pool.Exec(context.Background(), `UPDATE villageplan.layer_coverage SET geom = NULL, with_features = true, kind = 'features'
		WHERE layer = 'permanent_farmland'`); err != nil {
		t.Fatal(err)
	}
	res = check(t, svc, square(1020, 20, 1040, 40), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Block || res.CoverageSources["permanent_farmland"].Kind != "features" {
		t.Fatalf("site on F with features coverage: %+v", r)
	}
	res = check(t, svc, square(1200, 20, 1220, 40), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Review || !r.NoData {
		t.Fatalf("site beside F with features coverage: %+v", r)
	}
	// Half on F: 200 m² outside the features.
	res = check(t, svc, square(990, 40, 1010, 60), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Review || len(res.NoCoverage) != 1 || !near(*res.NoCoverage[0].OutsideM2, 200, 0.01) {
		t.Fatalf("site half on F with features coverage: %+v %+v", r, res.NoCoverage)
	}
}
