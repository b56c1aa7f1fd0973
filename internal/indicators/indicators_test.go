package indicators_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
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
		{"dead_ends", villageB, "", 8, 0, 8},
		{"water_connected_share", villageA, "", 2, 5, 40},
		{"water_connected_share", villageB, "", 1, 1, 100},
		{"water_connected_share", "", "", 3, 6, 50},
		{"water_connected_share", villageA, "东屯", 1, 1, 100},
		{"toilet_done_share", villageA, "", 2, 5, 40},
		{"toilet_done_share", "", "", 2, 6, 33.33},
		{"dangerous_houses", villageA, "", 2, 5, 2},
		{"dangerous_houses", villageA, "西屯", 1, 1, 1},
		{"hamlet_hardened_road", villageA, "", 2, 3, 66.67},
		{"hamlet_hardened_road", villageA, "北屯", 0, 1, 0},
		{"hamlet_hardened_road", villageA, "西屯", 1, 1, 100},
		{"hamlet_hardened_road", villageB, "", 0, 0, 0},
		{"fire_lane_hamlets", villageA, "", 1, 3, 1},
		{"fire_lane_hamlets", villageA, "西屯", 1, 1, 1},
		{"fire_lane_hamlets", villageA, "北屯", 0, 1, 0},
		// Default reach 1,000 m: H1 (480 m) and H2 (55 m) of A's five.
		{"reach_shelter", villageA, "", 2, 5, 40},
		{"reach_shelter", "", "", 2, 6, 33.33},
		{"reach_clinic", villageA, "", 5, 5, 100}, // default 2,500 m: H7 is 800 + 800 m away
		{"reach_service_centre", villageA, "", 0, 5, 0},
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

// TestReach: a shelter 480 m away by road and 300 m straight is beyond a
// 400 m reach (only H2, 55 m along the same lane, is within); a closed
// clinic does not count; the households beyond are listed by parcel code.
func TestReach(t *testing.T) {
	pool := fixture(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.indicator_targets (key, value, updated_by) VALUES
('reach_m:应急避难场所', 400, 't'), ('reach_m:卫生室', 100, 't')`); err != nil {
		t.Fatal(err)
	}
	var straight float64
	if err := pool.QueryRow(ctx, `SELECT ST_Distance(ST_Transform(ST_PointOnSurface(h.geom), 4551), ST_Transform(f.geom, 4551))
FROM villageplan.homesteads h, villageplan.public_facilities f WHERE h.zddm = '220112203301JC00001' AND f.kind = '应急避难场所'`).Scan(&straight); err != nil {
		t.Fatal(err)
	}
	if math.Abs(straight-300) > 0.01 {
		t.Fatalf("fixture: H1 is %g m straight from the shelter, want 300", straight)
	}
	s := service(pool)
	r, err := s.Compute(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, r, []want{
		{"reach_shelter", villageA, "", 1, 5, 20},
		{"reach_shelter", villageA, "东屯", 1, 1, 100},
		{"reach_shelter", villageA, "西屯", 0, 1, 0},
		{"reach_shelter", villageB, "", 0, 1, 0},
		{"reach_clinic", villageA, "", 1, 5, 20}, // H1, 10 m from the operating clinic
		{"reach_service_centre", "", "", 0, 6, 0},
	})
	b, err := s.Features(ctx, "reach_shelter", villageA, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct{ Properties map[string]any }
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fc.Features {
		got = append(got, f.Properties["zddm"].(string))
	}
	if fmt.Sprint(got) != "[220112203301JC00001 220112203301JC00003 220112203301JC00006 220112203301JC00007]" {
		t.Errorf("households beyond 400 m of a shelter: %v", got)
	}
	if strings.Contains(string(b), "张三") {
		t.Error("a holder's name in the features")
	}
	b, err = s.Features(ctx, "fire_lane_hamlets", "", time.Time{})
	if err != nil || !strings.Contains(string(b), "西屯") || strings.Contains(string(b), "东屯") {
		t.Errorf("hamlets without a fire lane: %s, %v", b, err)
	}
	b, err = s.Features(ctx, "dead_ends", villageA, time.Time{})
	if err != nil || strings.Count(string(b), `"Feature"`) != 3 {
		t.Errorf("dead ends of A: %s, %v", b, err)
	}
}

// TestAsOf: a report for an earlier day reads the layers as they were
// then (feature_versions), and the change of 耕地 since 1 January compares
// with the land use of that day. The fixture's history is moved 400 days
// back (as if it had been loaded then), then a light is repaired and a
// 旱地 parcel becomes 果园 now.
func TestAsOf(t *testing.T) {
	pool := fixture(t)
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE villageplan.edit_history SET at = at - interval '400 days'`,
		`UPDATE villageplan.edit_batch SET at = at - interval '400 days'`,
		`UPDATE villageplan.streetlights SET status = '正常' WHERE pole_id = 'L3'`,
		`UPDATE villageplan.land_use SET dlbm = '0201' WHERE dlbm = '0103'`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s := service(pool)
	now, err := s.Compute(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, now, []want{
		{"road_lit_share", villageB, "", 120, 120, 100},
		{"cultivated_land_area", villageA, "", 40000, 0, 40000},
		{"cultivated_land_change", villageA, "", 40000, 80000, -40000},
		{"cultivated_land_change", "", "", 60000, 100000, -40000},
	})
	then, err := s.Compute(ctx, time.Now().AddDate(0, 0, -2))
	if err != nil {
		t.Fatal(err)
	}
	check(t, then, []want{
		{"road_lit_share", villageB, "", 80, 120, 66.67},
		{"cultivated_land_area", villageA, "", 80000, 0, 80000},
	})
	if _, err := s.Compute(ctx, time.Now().AddDate(-3, 0, 0)); err == nil {
		t.Error("a day before the layers' history answered")
	}
}
