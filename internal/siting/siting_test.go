package siting_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// Fixture coordinates are metres on EPSG:4551 (CGCS2000 GK CM 126E)
// relative to the origin below (≈125.76°E, 43.60°N), stored in EPSG:4490.
const ox, oy = 480000.0, 4829000.0

func env(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", ox+x0, oy+y0, ox+x1, oy+y1)
}

func line(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("ST_Multi(ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(%f, %f), ST_MakePoint(%f, %f)), 4551), 4490))", ox+x0, oy+y0, ox+x1, oy+y1)
}

// fixture builds a small world:
//   - village 大营村 and coverage of every layer: x −500…3000, y −500…1000
//   - 村庄集中建设区: x 0…2000, y 0…600
//   - 永久基本农田 F: x 1000…1100, y 0…100
//   - 旱地 (0103) land use: x 0…3000, y −500…1000 except where noted
//   - 乡道 Y001 centreline y = 300, x 0…2000, 路基宽度 6.5 m
//   - 10 kV overhead line x = 1500, y 0…600
//   - homestead of household H-OLD: x 200…220, y 500…520
func fixture(t *testing.T, withCoverage bool) *pgxpool.Pool {
	t.Helper()
	pool := testpg.New(t)
	stmts := []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203300', '大营村', '集聚提升类', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(0, 0, 2000, 600) + `)`,
		`INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom) VALUES ('YJ1', '0103', ` + env(1000, 0, 1100, 100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, dlmc, geom) VALUES ('0702', '农村宅基地', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, subgrade_width, geom) VALUES ('Y001', '乡道', 6.5, ` + line(0, 300, 2000, 300) + `)`,
		`INSERT INTO villageplan.power_lines (name, voltage_kv, laying, geom) VALUES ('10kV 大营线', 10, '架空', ` + line(1500, 0, 1500, 600) + `)`,
		`INSERT INTO villageplan.homesteads (zddm, xzqdm, status, household_id, geom) VALUES ('220112203300JC00001', '220112203300', '已登记', 'H-OLD', ` + env(200, 500, 220, 520) + `)`,
	}
	if withCoverage {
		stmts = append(stmts, `INSERT INTO villageplan.layer_coverage (layer, geom, source)
			SELECT layer, `+env(-500, -500, 3000, 1000)+`, 'test' FROM villageplan.layer_version`)
	}
	for _, s := range stmts {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return pool
}

func service(t *testing.T, pool *pgxpool.Pool) *siting.Service {
	t.Helper()
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	return siting.NewService(pool, rs)
}

// square is a site in EPSG:4551 coordinates (x = easting).
func square(x0, y0, x1, y1 float64) siting.Site {
	r := orb.Ring{{ox + x0, oy + y0}, {ox + x1, oy + y0}, {ox + x1, oy + y1}, {ox + x0, oy + y1}, {ox + x0, oy + y0}}
	return siting.Site{Geometry: orb.MultiPolygon{{r}}, SRID: 4551, Format: "geojson"}
}

func rule(t *testing.T, res *siting.Result, id string) siting.RuleResult {
	t.Helper()
	for _, r := range res.Rules {
		if r.Code == id {
			return r
		}
	}
	t.Fatalf("no rule %s in result", id)
	return siting.RuleResult{}
}

func check(t *testing.T, svc *siting.Service, site siting.Site, in siting.Input) *siting.Result {
	t.Helper()
	res, err := svc.Check(context.Background(), site, in)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return res
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestHalfOnPermanentFarmland(t *testing.T) {
	svc := service(t, fixture(t, true))
	res := check(t, svc, square(990, 40, 1010, 60), siting.Input{HouseholdID: "H-NEW"})
	r := rule(t, res, "permanent_farmland")
	if r.Outcome != siting.Block || r.Measured == nil || !near(*r.Measured, 200.00, 0.01) || r.Unit != "m²" {
		t.Fatalf("permanent_farmland = %+v, want BLOCK 200.00 m²", r)
	}
	if len(r.Features) != 1 || r.Features[0].Str("yjjbnttbbh") != "YJ1" || r.Features[0].Overlap == nil {
		t.Errorf("features = %+v", r.Features)
	}
	if !strings.Contains(r.LegalBasis, "第三十五条") {
		t.Errorf("legal basis %q", r.LegalBasis)
	}
	if res.Verdict != siting.Block {
		t.Errorf("verdict %s", res.Verdict)
	}
	if !near(res.Site.AreaM2, 400, 0.001) || res.Site.MeasureEPSG != 4551 || res.Site.VillageName != "大营村" {
		t.Errorf("site facts = %+v", res.Site)
	}
	if res.RuleSetVersion == "" || res.DataVersions["permanent_farmland"] < 1 {
		t.Errorf("versions: %q %v", res.RuleSetVersion, res.DataVersions)
	}
}

func TestTouchingFarmlandIsNotOverlap(t *testing.T) {
	svc := service(t, fixture(t, true))
	res := check(t, svc, square(1100, 40, 1120, 60), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "permanent_farmland"); r.Outcome != siting.Pass || *r.Measured != 0 {
		t.Fatalf("touching farmland = %+v, want PASS 0", r)
	}
}

func TestRoadSetback(t *testing.T) {
	svc := service(t, fixture(t, true))
	// road-land edge: centreline y = 300 + 6.5/2 + 1.0 margin = 304.25
	for _, c := range []struct {
		gap  float64
		want siting.Outcome
	}{{4.0, siting.Block}, {6.0, siting.Pass}} {
		y0 := 304.25 + c.gap
		res := check(t, svc, square(600, y0, 620, y0+20), siting.Input{HouseholdID: "H-NEW"})
		r := rule(t, res, "road_setback")
		if r.Outcome != c.want || r.Measured == nil || !near(*r.Measured, c.gap, 0.01) || *r.Threshold != 5 {
			t.Errorf("site %.1f m from the 乡道 road land: %+v, want %s at %.2f m", c.gap, r, c.want, c.gap)
		}
		if c.want == siting.Block && (len(r.Features) != 1 || r.Features[0].Str("lxbm") != "Y001") {
			t.Errorf("road not named: %+v", r.Features)
		}
		// 四至: the road runs along the south side, within the 30 m radius.
		if got := res.Site.Neighbors["south"]; got != "Y001 乡道" {
			t.Errorf("四至 south = %q, want the road Y001 乡道 (neighbours %v)", got, res.Site.Neighbors)
		}
	}
}

func TestUnderPowerLine(t *testing.T) {
	svc := service(t, fixture(t, true))
	res := check(t, svc, square(1490, 400, 1510, 420), siting.Input{HouseholdID: "H-NEW"})
	r := rule(t, res, "power_line")
	if r.Outcome != siting.Block || *r.Measured != 0 || *r.Threshold != 5 {
		t.Fatalf("under a 10 kV line: %+v", r)
	}
	res = check(t, svc, square(1506, 400, 1526, 420), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "power_line"); r.Outcome != siting.Pass || !near(*r.Measured, 6, 0.01) {
		t.Fatalf("6 m from a 10 kV line: %+v", r)
	}
}

func TestHomesteadRulesAndVerdict(t *testing.T) {
	svc := service(t, fixture(t, true))
	// Overlapping the H-OLD parcel, applied for by H-OLD: 一户一宅 blocks,
	// the overlap with its own parcel does not.
	res := check(t, svc, square(210, 510, 230, 530), siting.Input{HouseholdID: "H-OLD"})
	if r := rule(t, res, "one_household_one_homestead"); r.Outcome != siting.Block || len(r.Features) != 1 {
		t.Errorf("一户一宅 = %+v", r)
	}
	if r := rule(t, res, "homestead_overlap"); r.Outcome != siting.Pass {
		t.Errorf("own parcel overlap = %+v", r)
	}
	res = check(t, svc, square(210, 510, 230, 530), siting.Input{HouseholdID: "H-OLD", RebuildInPlace: true})
	if r := rule(t, res, "one_household_one_homestead"); r.Outcome != siting.Pass {
		t.Errorf("rebuild in place = %+v", r)
	}
	// Another household on H-OLD's parcel: overlap 100 m² → BLOCK.
	res = check(t, svc, square(210, 510, 230, 530), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "homestead_overlap"); r.Outcome != siting.Block || !near(*r.Measured, 100, 0.01) {
		t.Errorf("other household overlap = %+v", r)
	}
	// No household id → REVIEW.
	res = check(t, svc, square(700, 100, 720, 120), siting.Input{})
	if r := rule(t, res, "one_household_one_homestead"); r.Outcome != siting.Review {
		t.Errorf("no household = %+v", r)
	}
	// A clean 15 m × 15 m site: inside the boundary, on 宅基地 land, away from all.
	res = check(t, svc, square(700, 100, 715, 115), siting.Input{HouseholdID: "H-NEW"})
	if res.Verdict != siting.Pass {
		for _, r := range res.Rules {
			if r.Outcome != siting.Pass {
				t.Errorf("clean site: rule %s = %s %s", r.Code, r.Outcome, r.MessageZH)
			}
		}
	}
	if r := rule(t, res, "area_limit"); !r.Placeholder || r.PlaceholderNote == "" {
		t.Errorf("area limit must say it is a placeholder: %+v", r)
	}
	// Too large: 20 × 20 = 400 m² > 330 placeholder limit → BLOCK.
	res = check(t, svc, square(700, 100, 720, 120), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "area_limit"); r.Outcome != siting.Block || !near(*r.Measured, 400, 0.01) {
		t.Errorf("area 400 m² = %+v", r)
	}
	// Outside the 村庄建设边界 (y > 600): BLOCK with the outside area.
	res = check(t, svc, square(700, 590, 720, 610), siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, res, "village_construction_boundary"); r.Outcome != siting.Block || !near(*r.Measured, 200, 0.01) {
		t.Errorf("half outside the boundary = %+v", r)
	}
}

func TestDataGapIsReview(t *testing.T) {
	svc := service(t, fixture(t, false)) // no coverage rows at all
	res := check(t, svc, square(700, 100, 715, 115), siting.Input{HouseholdID: "H-NEW"})
	for _, r := range res.Rules {
		if r.Code == "area_limit" {
			continue // reads no layer
		}
		if r.Outcome != siting.Review || !r.NoData || !strings.Contains(r.MessageZH, "无数据") {
			t.Errorf("rule %s without data = %s %q, want REVIEW no data", r.Code, r.Outcome, r.MessageZH)
		}
	}
	if res.Verdict != siting.Review {
		t.Errorf("verdict %s", res.Verdict)
	}
}

func TestSiteOutsideTownshipRefused(t *testing.T) {
	svc := service(t, fixture(t, true))
	_, err := svc.Check(context.Background(), square(50000, 0, 50020, 20), siting.Input{})
	if !errors.Is(err, siting.ErrOutsideData) {
		t.Fatalf("err = %v, want ErrOutsideData", err)
	}
}

func TestInvalidSites(t *testing.T) {
	svc := service(t, fixture(t, true))
	bow := orb.Ring{{ox + 700, oy + 100}, {ox + 720, oy + 120}, {ox + 720, oy + 100}, {ox + 700, oy + 120}, {ox + 700, oy + 100}}
	_, err := svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{bow}}, SRID: 4551}, siting.Input{})
	var ie *siting.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.ZH, "自相交") && !strings.Contains(ie.EN, "Self-intersection") || ie.Lon < 125 {
		t.Fatalf("bow-tie: %v (%+v)", err, ie)
	}
	for name, c := range map[string]struct{ body, crs, want string }{
		"empty":        {"", "", "no site"},
		"point":        {`{"type":"Point","coordinates":[125.76,43.6]}`, "", "Polygon"},
		"line":         {`{"type":"LineString","coordinates":[[125.76,43.6],[125.77,43.6]]}`, "", "Polygon"},
		"unclosed":     {`{"type":"Polygon","coordinates":[[[125.76,43.6],[125.761,43.6],[125.761,43.601],[125.76,43.601]]]}`, "", "not closed"},
		"too few":      {`{"type":"Polygon","coordinates":[[[125.76,43.6],[125.761,43.6],[125.76,43.6]]]}`, "", "at least 4"},
		"GK as CRS84":  {`{"type":"Polygon","coordinates":[[[42480700,4829100],[42480720,4829100],[42480720,4829120],[42480700,4829100]]]}`, "", "not longitude/latitude"},
		"wrong zone":   {`{"type":"Polygon","coordinates":[[[40480700,4829100],[40480720,4829100],[40480720,4829120],[40480700,4829100]]]}`, "EPSG:4530", "carries zone 40"},
		"unknown CRS":  {`{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6],[1,2]]]}`, "EPSG:2000", "unsupported CRS"},
		"not geojson":  {`{"type":`, "", "not valid GeoJSON"},
		"swapped axes": {`{"type":"Polygon","coordinates":[[[43.6,125.76],[43.6,125.761],[43.601,125.761],[43.6,125.76]]]}`, "", "not longitude/latitude"},
	} {
		_, err := siting.ParseGeoJSONSite([]byte(c.body), c.crs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	// More vertices than the rule set allows.
	var ring orb.Ring
	for i := 0; i < 10001; i++ {
		a := 2 * math.Pi * float64(i) / 10001
		ring = append(ring, orb.Point{ox + 700 + 10*math.Cos(a), oy + 100 + 10*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	_, err = svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{ring}}, SRID: 4551}, siting.Input{})
	if !errors.As(err, &ie) || !strings.Contains(ie.EN, "more than") {
		t.Errorf("10 002 vertices: %v", err)
	}
	// A comb: few metres wide, but 2 400 vertices (over max_site_vertices).
	var comb orb.Ring
	for i := 0; i < 600; i++ {
		x := ox + 700 + float64(i)*0.05
		comb = append(comb, orb.Point{x, oy + 100}, orb.Point{x, oy + 130}, orb.Point{x + 0.025, oy + 130}, orb.Point{x + 0.025, oy + 100})
	}
	comb = append(comb, orb.Point{ox + 730, oy + 90}, orb.Point{ox + 700, oy + 90}, comb[0])
	_, err = svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{comb}}, SRID: 4551}, siting.Input{})
	if !errors.As(err, &ie) || !strings.Contains(ie.EN, "points, more than the 2000 allowed") {
		t.Errorf("comb of %d vertices: %v", len(comb), err)
	}
	// A site 600 m across (a township is not a site), in GK metres and in
	// longitude/latitude: refused before any database work.
	wide := orb.Ring{{ox + 700, oy + 100}, {ox + 1300, oy + 100}, {ox + 1300, oy + 120}, {ox + 700, oy + 120}, {ox + 700, oy + 100}}
	_, err = svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{wide}}, SRID: 4551}, siting.Input{})
	if !errors.As(err, &ie) || !strings.Contains(ie.EN, "spans about 600 m, more than the 500 m allowed") || !strings.Contains(ie.ZH, "超过上限") {
		t.Errorf("600 m wide site: %v", err)
	}
	wideLL := orb.Ring{{125.76, 43.6}, {125.7675, 43.6}, {125.7675, 43.6001}, {125.76, 43.6001}, {125.76, 43.6}} // ≈ 605 m
	_, err = svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{wideLL}}, SRID: 4490}, siting.Input{})
	if !errors.As(err, &ie) || !strings.Contains(ie.EN, "more than the 500 m allowed") {
		t.Errorf("605 m wide site in degrees: %v", err)
	}
	// 120 m × 120 m: within the extent, over the 10 000 m² area limit.
	big := orb.Ring{{ox + 700, oy + 100}, {ox + 820, oy + 100}, {ox + 820, oy + 220}, {ox + 700, oy + 220}, {ox + 700, oy + 100}}
	_, err = svc.Check(context.Background(), siting.Site{Geometry: orb.MultiPolygon{{big}}, SRID: 4551}, siting.Input{})
	if !errors.As(err, &ie) || !strings.Contains(ie.EN, "measures 14400.00 m², more than the 10000 m² allowed") {
		t.Errorf("14 400 m² site: %v", err)
	}
}

// TestMultiParcelJZD checks one site per parcel of a 界址点 file in zone 42
// with the zone number in the easting (EPSG:4530), and that the area is
// the shoelace area of the file's own coordinates.
func TestMultiParcelJZD(t *testing.T) {
	svc := service(t, fixture(t, true))
	e := func(x float64) string { return fmt.Sprintf("%.3f", 42e6+ox+x) }
	n := func(y float64) string { return fmt.Sprintf("%.3f", oy+y) }
	txt := "[属性描述]\r\n坐标系=2000国家大地坐标系\r\n几度分带=3\r\n投影类型=高斯克吕格\r\n计量单位=米\r\n带号=42\r\n精度=0.001\r\n[地块坐标]\r\n" +
		"5,0.0400,1,甲地块,面,,宅基地,,@\r\n" +
		"J1,1," + n(40) + "," + e(990) + "\r\nJ2,1," + n(40) + "," + e(1010) + "\r\nJ3,1," + n(60) + "," + e(1010) + "\r\nJ4,1," + n(60) + "," + e(990) + "\r\nJ1,1," + n(40) + "," + e(990) + "\r\n" +
		"4,0.0300,2,乙地块,面,,宅基地,,@\r\n" +
		"J1,1," + n(100) + "," + e(700) + "\r\nJ2,1," + n(100) + "," + e(715) + "\r\nJ3,1," + n(120) + "," + e(715) + "\r\nJ4,1," + n(120) + "," + e(700) + "\r\n"
	sites, err := siting.ParseJZDSites([]byte(txt))
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 2 || sites[0].SRID != 4530 || sites[1].Label != "2 乙地块" {
		t.Fatalf("sites = %+v", sites)
	}
	r1 := check(t, svc, sites[0], siting.Input{HouseholdID: "H-NEW"})
	if r := rule(t, r1, "permanent_farmland"); r.Outcome != siting.Block || !near(*r.Measured, 200, 0.01) {
		t.Errorf("parcel 甲: %+v", r)
	}
	if r1.Site.MeasureEPSG != 4530 || !near(r1.Site.AreaM2, 400, 0.001) {
		t.Errorf("parcel 甲 facts %+v", r1.Site)
	}
	r2 := check(t, svc, sites[1], siting.Input{HouseholdID: "H-NEW"})
	if !near(r2.Site.AreaM2, 300, 0.001) || rule(t, r2, "permanent_farmland").Outcome != siting.Pass {
		t.Errorf("parcel 乙: %+v", r2.Site)
	}
	// A file with a broken point line names the line.
	_, err = siting.ParseJZDSites([]byte(strings.Replace(txt, n(100)+","+e(715), "abc,"+e(715), 1)))
	var ie *siting.InputError
	if !errors.As(err, &ie) || ie.Line != 17 {
		t.Errorf("broken line: %v (line %d)", err, ie.Line)
	}
}

func TestSaveAndGet(t *testing.T) {
	svc := service(t, fixture(t, true))
	site := square(990, 40, 1010, 60)
	res := check(t, svc, site, siting.Input{HouseholdID: "H-NEW"})
	if err := svc.Save(context.Background(), site, res); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(context.Background(), res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != res.ID || res.ID == 0 || !got.CreatedAt.Equal(res.CreatedAt) {
		t.Errorf("stored check id/time %d %v, saved %d %v", got.ID, got.CreatedAt, res.ID, res.CreatedAt)
	}
	if got.Verdict != siting.Block || len(got.Rules) != len(res.Rules) || len(got.Geometry) == 0 || got.DataVersions["homesteads"] == 0 {
		t.Errorf("stored check = %+v", got)
	}
	if _, err := svc.Get(context.Background(), 999999); !errors.Is(err, siting.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestRuleSetValidation(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key":  `{"version":"x","overlap_tolerance_m2":1,"max_site_vertices":100,"search_radius_m":100,"neighbor_radius_m":30,"rules":{},"extra":1}`,
		"missing rule": `{"version":"x","overlap_tolerance_m2":1,"max_site_vertices":100,"search_radius_m":100,"neighbor_radius_m":30,"rules":{}}`,
		"unknown rule": `{"version":"x","overlap_tolerance_m2":1,"max_site_vertices":100,"search_radius_m":100,"neighbor_radius_m":30,"rules":{"nope":{"outcome":"BLOCK","legal_basis":"x"}}}`,
	} {
		if _, err := siting.LoadRuleSet(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rs, err := siting.DefaultRuleSet()
	if err != nil || len(rs.Rules) != len(siting.Rules()) {
		t.Fatalf("default rule set: %v", err)
	}
}

// MapData gives the site, the overlap only (not the whole farmland
// polygon) and, for a line layer, the line cut to the window, in metres on
// the check's plane.
func TestMapData(t *testing.T) {
	svc := service(t, fixture(t, true))
	site := square(990, 40, 1010, 60)
	res := check(t, svc, site, siting.Input{HouseholdID: "H-NEW"})
	if err := svc.Save(context.Background(), site, res); err != nil {
		t.Fatal(err)
	}
	m, err := svc.MapData(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if m.EPSG != 4551 || !near(planar.Area(m.Site), 400, 0.01) || !near(m.Site.Bound().Min[0], ox+990, 0.01) {
		t.Errorf("site: EPSG %d area %.3f bound %v", m.EPSG, planar.Area(m.Site), m.Site.Bound())
	}
	var farm []siting.MapPart
	for _, o := range m.Overlaps {
		if o.TitleZH == "永久基本农田" {
			farm = append(farm, o)
		}
	}
	if len(farm) != 1 || !near(planar.Area(farm[0].Geom), 200, 0.01) || !near(farm[0].Geom.Bound().Min[0], ox+1000, 0.01) || !near(farm[0].Geom.Bound().Max[0], ox+1010, 0.01) {
		t.Errorf("farmland overlap: %+v", farm)
	}
	site = square(1490, 400, 1510, 420)
	res = check(t, svc, site, siting.Input{HouseholdID: "H-NEW"})
	if err := svc.Save(context.Background(), site, res); err != nil {
		t.Fatal(err)
	}
	if m, err = svc.MapData(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	var power []siting.MapPart
	for _, o := range m.Overlaps {
		if o.Geom.Dimensions() == 1 && o.TitleZH == "电力线路" {
			power = append(power, o)
		}
	}
	// the line x = 1500 cut to the window y 360…460
	if len(power) != 1 || !near(planar.Length(power[0].Geom), 100, 0.01) {
		t.Errorf("power line in the window: %+v", power)
	}
	for _, c := range m.Context {
		if b := c.Geom.Bound(); b.Min[1] < oy+360-0.01 || b.Max[1] > oy+460+0.01 {
			t.Errorf("context %s outside the window: %v", c.TitleZH, b)
		}
	}
	if _, err := svc.MapData(context.Background(), &siting.Result{ID: 999999, Site: siting.SiteFacts{MeasureEPSG: 4551}}); !errors.Is(err, siting.ErrNotFound) {
		t.Errorf("unknown check: %v", err)
	}
}
