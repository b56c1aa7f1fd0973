package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// fixture: one village on EPSG:4551 around (480000, 4829000) with a
// 村庄集中建设区 of 400 m × 200 m, an east–west road 600 m long crossing it
// (200 m outside on each side), a working light in the middle and a
// faulty one 100 m east of it.
func fixture(t *testing.T) *Store {
	t.Helper()
	pool := testpg.New(t)
	pt := func(x, y float64) string {
		return fmt.Sprintf("ST_Transform(ST_SetSRID(ST_MakePoint(%f, %f), 4551), 4490)", 480000+x, 4829000+y)
	}
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203301', '鲁家村', '特色保护类', ` + env(-1000, -1000, 1000, 1000) + `)`,
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203302', '庞家村', '集聚提升类', ` + env(1000, -1000, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(-200, -100, 200, 100) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('生态保护红线', ` + env(-1000, 500, 1000, 1000) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, geom) VALUES ('C101', '村道', ST_Multi(ST_Transform(ST_MakeLine(ST_SetSRID(ST_MakePoint(479600, 4829000), 4551), ST_SetSRID(ST_MakePoint(480400, 4829000), 4551)), 4490)))`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L1', '正常', ` + pt(0, 5) + `)`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L2', '故障', ` + pt(100, 5) + `)`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	cat := layers.Default()
	return NewStore(pool, cat, NewCoverage(cat, []string{"村庄集中建设区", "村庄弹性发展区"}))
}

func TestSearchVillages(t *testing.T) {
	s := fixture(t)
	ctx := context.Background()
	for q, want := range map[string]int{"": 2, "鲁家": 1, "村": 2, "2201122033": 2, "220112203302": 1, "%": 0, "_": 0, " 庞 家 ": 1, "黄金": 0} {
		vs, err := s.SearchVillages(ctx, q, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != want {
			t.Errorf("search %q: %d villages, want %d", q, len(vs), want)
		}
	}
	vs, _ := s.SearchVillages(ctx, "鲁家", 20)
	v := vs[0]
	if v.Code != "220112203301" || v.Name != "鲁家村" || v.Class != "特色保护类" {
		t.Errorf("hit %+v", v)
	}
	if !(v.BBox[0] < v.Center[0] && v.Center[0] < v.BBox[2] && v.BBox[1] < v.Center[1] && v.Center[1] < v.BBox[3]) || v.BBox[2]-v.BBox[0] < 0.02 {
		t.Errorf("bbox %v centre %v", v.BBox, v.Center)
	}
	e, err := s.Extent(ctx)
	if err != nil || e == nil || e[0] > v.BBox[0] || e[2] <= v.BBox[2] {
		t.Errorf("extent %v, %v", e, err)
	}
}

func TestStreetlightCoverage(t *testing.T) {
	s := fixture(t)
	ctx := context.Background()
	body, version, err := s.CoverageGeoJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties struct {
				Class, Route, Grade string
				LengthM             float64 `json:"length_m"`
			}
			Geometry struct{ Type string }
		}
		Summary struct {
			TotalM   float64 `json:"total_m"`
			LitM     float64 `json:"lit_m"`
			UnlitM   float64 `json:"unlit_m"`
			LitShare float64 `json:"lit_share"`
			RadiusM  float64 `json:"radius_m"`
		}
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatal(err)
	}
	// Only the 400 m inside the construction zone count; the working light
	// 5 m off the road lights √(25² − 5²) = 24.49 m each side; the faulty
	// one lights nothing. Lengths are geodesic, the zone and road are
	// built on the Gauss-Krüger plane (scale error < 0.1 % here).
	wantLit := 2 * math.Sqrt(25*25-5*5)
	if math.Abs(fc.Summary.TotalM-400) > 0.5 || math.Abs(fc.Summary.LitM-wantLit) > 0.3 || math.Abs(fc.Summary.UnlitM-(400-wantLit)) > 0.5 {
		t.Errorf("summary %+v, want total 400 m, lit %.2f m", fc.Summary, wantLit)
	}
	if fc.Summary.RadiusM != DefaultLightRadiusM {
		t.Errorf("radius %v", fc.Summary.RadiusM)
	}
	classes := map[string]int{}
	for _, f := range fc.Features {
		classes[f.Properties.Class]++
		if f.Properties.Route != "C101" || f.Properties.Grade != "村道" || f.Geometry.Type == "" {
			t.Errorf("feature %+v", f)
		}
	}
	if classes["lit"] != 1 || classes["unlit"] != 1 {
		t.Errorf("classes %v", classes)
	}
	// Cached until a layer changes; a repaired light changes the answer.
	if _, v2, _ := s.CoverageGeoJSON(ctx); v2 != version {
		t.Errorf("version changed without an edit: %s → %s", version, v2)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE villageplan.streetlights SET status = '正常' WHERE pole_id = 'L2'`); err != nil {
		t.Fatal(err)
	}
	body2, v3, err := s.CoverageGeoJSON(ctx)
	if err != nil || v3 == version {
		t.Fatalf("after the repair: version %s (was %s), %v", v3, version, err)
	}
	if err := json.Unmarshal(body2, &fc); err != nil {
		t.Fatal(err)
	}
	if math.Abs(fc.Summary.LitM-2*wantLit) > 0.5 {
		t.Errorf("after the repair lit %.2f m, want %.2f", fc.Summary.LitM, 2*wantLit)
	}
}
