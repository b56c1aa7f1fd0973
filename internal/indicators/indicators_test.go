package indicators_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/indicators"
	"villageplan/internal/indicators/indicatorstest"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const (
	villageA = indicatorstest.VillageA
	villageB = indicatorstest.VillageB
)

func fixture(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testpg.New(t)
	indicatorstest.Load(t, pool)
	return pool
}

func service(pool *pgxpool.Pool) *indicators.Service {
	cat := layers.Default()
	return indicators.NewService(pool, cat, indicators.Config{Lighting: indicators.NewLighting(cat, []string{"村庄集中建设区", "村庄弹性发展区"})})
}

type want struct {
	key, village, hamlet string
	num, den, value      float64
}

func check(t *testing.T, r *indicators.Report, ws []want) {
	t.Helper()
	for _, w := range ws {
		v, ok := r.Get(w.key, w.village, w.hamlet)
		if !ok {
			t.Errorf("%s %q %q: missing (skipped: %q)", w.key, w.village, w.hamlet, r.Skipped[w.key])
			continue
		}
		if math.Abs(v.Numerator-w.num) > 0.05 || math.Abs(v.Denominator-w.den) > 0.05 || math.Abs(v.Value-w.value) > 0.005 {
			t.Errorf("%s %q %q: %g / %g = %g, want %g / %g = %g", w.key, w.village, w.hamlet, v.Numerator, v.Denominator, v.Value, w.num, w.den, w.value)
		}
	}
}

func TestIndicatorsExistingLayers(t *testing.T) {
	pool := fixture(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.indicator_targets (key, village, value, updated_by) VALUES
('farmland_target_m2', '', 90000, 't'), ('farmland_target_m2', '`+villageA+`', 85000, 't')`); err != nil {
		t.Fatal(err)
	}
	s := service(pool)
	r, err := s.Compute(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Cached {
		t.Error("first report cached")
	}
	check(t, r, []want{
		{"road_lit_share", villageB, "", 80, 120, 66.67},
		{"road_lit_share", villageA, "", 0, 0, 0},
		{"road_lit_share", "", "", 80, 120, 66.67},
		{"hazard_exposed_households", villageA, "", 1, 5, 1},
		{"hazard_exposed_households", villageB, "", 0, 1, 0},
		{"homestead_idle", villageA, "", 1, 6, 1},
		{"homestead_avg_area", villageA, "", 900, 6, 150},
		{"homestead_avg_area", villageB, "", 360, 1, 360},
		{"homestead_avg_area", "", "", 1260, 7, 180},
		{"homestead_over_limit", villageA, "", 1, 6, 1},
		{"homestead_over_limit", villageB, "", 1, 1, 1},
		{"homestead_approvals", villageA, "", 2, 0, 2},
		{"homestead_approvals", villageB, "", 0, 0, 0},
		{"water_beyond_pipe", villageA, "", 4, 5, 4},
		{"water_beyond_pipe", villageB, "", 1, 1, 1},
		{"water_source_zone_households", villageB, "", 1, 1, 1},
		{"water_source_zone_households", villageA, "", 0, 5, 0},
		{"cultivated_land_area", villageA, "", 80000, 85000, 80000},
		{"cultivated_land_area", villageB, "", 20000, 0, 20000},
		{"cultivated_land_area", "", "", 100000, 90000, 100000},
		{"pbf_area", villageA, "", 20000, 0, 20000},
		{"dead_ends", villageA, "", 3, 0, 3},
		{"dead_ends", villageB, "", 6, 0, 6},
	})
	if _, ok := r.Skipped["cultivated_land_change"]; !ok {
		t.Error("cultivated_land_change computed although land_use has no history before 1 January")
	}
	r2, err := s.Compute(ctx, time.Time{})
	if err != nil || !r2.Cached {
		t.Fatalf("second report: cached %v, %v", r2 != nil && r2.Cached, err)
	}
	// An edit of a layer read changes the key: recomputed.
	if _, err := pool.Exec(ctx, `UPDATE villageplan.streetlights SET status = '正常' WHERE pole_id = 'L3'`); err != nil {
		t.Fatal(err)
	}
	r3, err := s.Compute(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r3.Cached {
		t.Error("report cached across a layer edit")
	}
	check(t, r3, []want{{"road_lit_share", villageB, "", 120, 120, 100}})
}
