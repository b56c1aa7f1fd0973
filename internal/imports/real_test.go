package imports

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"villageplan/internal/testpg"
)

// TestOSMDerivedLayers loads the four OSM-derived GeoJSON files of
// north Bayreuth and Heidelberg into farmland, homesteads, roads and
// streetlights, with --map/--set for the attributes OSM does not have.
func TestOSMDerivedLayers(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	cases := []struct {
		file, layer string
		opts        Options
		want        int
		check       string // SQL returning one float compared with value
		value, tol  float64
	}{
		{"osm/derived/north-bayreuth_landuse_agri.geojson", "permanent_farmland",
			Options{Map: []string{"osm_id,osm_way_id=yjjbnttbbh", "landuse=dlmc"}, Set: []string{"dlbm=0103"}}, 390,
			`SELECT count(DISTINCT yjjbnttbbh) FROM villageplan.permanent_farmland`, 390, 0},
		{"osm/derived/north-bayreuth_buildings.geojson", "homesteads",
			Options{Map: []string{"osm_way_id=zddm", "name=zl"}, Set: []string{"xzqdm=220112203300", "status=已登记"}}, 4267,
			`SELECT count(*) FROM villageplan.homesteads WHERE zl = 'Rathaus'`, 1, 0},
		{"osm/derived/north-bayreuth_roads.geojson", "roads",
			Options{Map: []string{"name=lxmc"}, Set: []string{"admin_grade=村道"}}, 2056,
			`SELECT count(*) FROM villageplan.roads WHERE lxmc IS NOT NULL`, 395, 0},
		{"osm/derived/heidelberg_street_lamps.geojson", "streetlights",
			Options{Map: []string{"osm_id=pole_id"}, Set: []string{"status=正常", "light_source=LED"}}, 38,
			`SELECT count(DISTINCT pole_id) FROM villageplan.streetlights`, 38, 0},
	}
	for _, c := range cases {
		t.Run(c.layer, func(t *testing.T) {
			l := layer(t, c.layer)
			c.opts.Attribution = "© OpenStreetMap contributors"
			sum, err := Import(ctx, pool, l, []string{realData(t, c.file)}, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(sum.Text())
			if sum.Read != c.want || sum.Loaded != c.want || count(t, pool, l) != c.want {
				t.Fatalf("read %d loaded %d stored %d, want %d", sum.Read, sum.Loaded, count(t, pool, l), c.want)
			}
			var got float64
			if err := pool.QueryRow(ctx, c.check).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-c.value) > c.tol {
				t.Errorf("%s = %v, want %v", c.check, got, c.value)
			}
			var src string
			var sample bool
			if err := pool.QueryRow(ctx, `SELECT source, is_sample FROM villageplan.layer_metadata WHERE layer = $1`, l.ID).Scan(&src, &sample); err != nil {
				t.Fatal(err)
			}
			if sample || !strings.Contains(src, c.file[strings.LastIndex(c.file, "/")+1:]) {
				t.Errorf("layer_metadata: source %q is_sample %v", src, sample)
			}
			var hist int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.edit_history_all WHERE batch_id = $1 AND action = 'insert'`, sum.BatchID).Scan(&hist); err != nil {
				t.Fatal(err)
			}
			if hist != c.want {
				t.Errorf("edit_history has %d inserts for batch %s, want %d", hist, sum.BatchID, c.want)
			}
		})
	}
}

// TestChangchunDataVInvalid: 2 of the 11 DataV districts are invalid.
// Without --repair the import fails naming 榆树市 and 德惠市 and leaves the
// layer unchanged; with --repair it lands with two repairs reported.
func TestChangchunDataVInvalid(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "villages")
	file := realData(t, "changchun_220100_districts_datav.geojson")
	opts := Options{Mode: Replace, FromGCJ02: true, Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}}

	// A first, valid import, which the failed one must leave alone.
	if _, err := Import(ctx, pool, l, []string{realData(t, "shuangyang_220112_datav.json")}, opts); err != nil {
		t.Fatal(err)
	}
	_, err := Import(ctx, pool, l, []string{file}, opts)
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("want *Error, got %v", err)
	}
	t.Log(err)
	if ie.Total != 2 || !strings.Contains(ie.Problems[0].Label, "榆树市") || !strings.Contains(ie.Problems[1].Label, "德惠市") {
		t.Fatalf("problems %+v", ie.Problems)
	}
	for _, p := range ie.Problems {
		if !strings.Contains(p.Reason, "invalid geometry") || math.IsNaN(p.Lon) {
			t.Errorf("problem without reason or location: %+v", p)
		}
	}
	if !strings.Contains(err.Error(), "--repair") {
		t.Errorf("error does not say what to do: %v", err)
	}
	var names string
	if err := pool.QueryRow(ctx, `SELECT string_agg(xzqmc, ',') FROM villageplan.villages`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if names != "双阳区" {
		t.Fatalf("layer changed by the failed import: %s", names)
	}

	opts.Repair = true
	sum, err := Import(ctx, pool, l, []string{file}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 11 || sum.Repaired != 2 || len(sum.Repairs) != 2 || sum.Deleted != 1 {
		t.Fatalf("loaded %d repaired %d deleted %d", sum.Loaded, sum.Repaired, sum.Deleted)
	}
	if !strings.Contains(sum.Repairs[0].Label, "榆树市") || !strings.Contains(sum.Repairs[1].Label, "德惠市") {
		t.Errorf("repairs %+v", sum.Repairs)
	}
	var invalid int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT ST_IsValid(geom)) FROM villageplan.villages`).Scan(&invalid); err != nil {
		t.Fatal(err)
	}
	if invalid != 0 || count(t, pool, l) != 11 {
		t.Errorf("%d invalid, %d stored", invalid, count(t, pool, l))
	}
}

// TestShuangyangDataVGCJ02: the bare array of one Feature in GCJ-02 lands
// with --from-gcj02, moved by the GCJ-02 offset (≈ 550–600 m here), with
// the area of 双阳区 on the zone-42 plane.
func TestShuangyangDataVGCJ02(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "villages")
	sum, err := Import(ctx, pool, l, []string{realData(t, "shuangyang_220112_datav.json")},
		Options{FromGCJ02: true, Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 1 || len(sum.Warnings) == 0 || !strings.Contains(sum.Warnings[0], "bare JSON array") {
		t.Fatalf("loaded %d, warnings %v", sum.Loaded, sum.Warnings)
	}
	var name, code string
	var npts int
	var areaKm2, shift float64
	err = pool.QueryRow(ctx, `SELECT xzqmc, xzqdm, ST_NPoints(geom), ST_Area(ST_Transform(geom, 4551)) / 1e6,
		ST_Distance(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)::geography, ST_SetSRID(ST_MakePoint(125.980175, 43.337088), 4490)::geography)
		FROM villageplan.villages`).Scan(&name, &code, &npts, &areaKm2, &shift)
	if err != nil {
		t.Fatal(err)
	}
	// DataV's 6-digit adcode is completed to the 12-digit 统计用区划代码
	// (XZQDM is 12 digits in the database), and the summary says so.
	if !strings.Contains(strings.Join(sum.Warnings, "\n"), "220112 → 220112000000") {
		t.Errorf("no warning about the completed code: %v", sum.Warnings)
	}
	if name != "双阳区" || code != "220112000000" || npts != 1137 {
		t.Errorf("name %s code %s points %d", name, code, npts)
	}
	if math.Abs(areaKm2-1673) > 5 {
		t.Errorf("area %.1f km², want ≈ 1673", areaKm2)
	}
	if shift < 500 || shift > 650 {
		t.Errorf("first vertex moved %.1f m by the GCJ-02 inverse, want 500–650 m", shift)
	}
}

// TestShapefileEncodings: the UTF-8 shapefile without .prj/.cpg (LDID 0)
// and the GBK one give names, not mojibake, and report the encoding.
func TestShapefileEncodings(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)

	l := layer(t, "villages")
	sum, err := Import(ctx, pool, l, []string{realData(t, "shp/changchun_districts_gcj02_utf8_nocpg.shp")},
		Options{FromGCJ02: true, Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 10 || sum.Files[0].Encoding != "UTF-8" || !strings.Contains(sum.Files[0].EncodingFrom, "detected") {
		t.Fatalf("loaded %d, encoding %s (%s)", sum.Loaded, sum.Files[0].Encoding, sum.Files[0].EncodingFrom)
	}
	var names string
	var parts int
	if err := pool.QueryRow(ctx, `SELECT string_agg(xzqmc, ',' ORDER BY xzqdm), max(ST_NumGeometries(geom)) FILTER (WHERE xzqmc = '榆树市') FROM villageplan.villages`).Scan(&names, &parts); err != nil {
		t.Fatal(err)
	}
	if names != "南关区,宽城区,朝阳区,二道区,绿园区,双阳区,九台区,农安县,榆树市,德惠市" {
		t.Errorf("names %s", names)
	}
	if parts != 9 {
		t.Errorf("榆树市 has %d parts, want 9 (multipart Polygon record → MultiPolygon)", parts)
	}
	// The parent-city field reads 长春市 too (UTF-8 detected, not GBK mojibake).
	src, err := openShapefile(realData(t, "shp/changchun_districts_gcj02_utf8_nocpg.shp"), readerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Next()
	src.Close()
	if err != nil || first.Props["ctname"] != "长春市" || first.Props["prname"] != "吉林省" {
		t.Errorf("first record: %v %v", first.Props, err)
	}
	// Without --from-gcj02 or --crs the missing .prj is an error saying what to do.
	_, err = Import(ctx, pool, l, []string{realData(t, "shp/changchun_districts_gcj02_utf8_nocpg.shp")},
		Options{Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}})
	if err == nil || !strings.Contains(err.Error(), "no .prj") || !strings.Contains(err.Error(), "--crs EPSG:") {
		t.Errorf("want an unknown-CRS error naming .prj and --crs, got %v", err)
	}

	pts := layer(t, "water_facilities")
	sum, err = Import(ctx, pool, pts, []string{realData(t, "shp/china_res2_4m_prefecture_points_gbk.shp")},
		// The villages layer now holds 长春's districts: all of China's other
		// prefecture seats lie outside that "township", loaded on purpose.
		Options{CRS: "EPSG:4326", Map: []string{"NAME=name"}, Set: []string{"kind=水厂"}, AllowOutside: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 331 || sum.Files[0].Encoding != "GB18030" || !strings.Contains(sum.Files[0].EncodingFrom, "detected") {
		t.Fatalf("loaded %d, encoding %s (%s)", sum.Loaded, sum.Files[0].Encoding, sum.Files[0].EncodingFrom)
	}
	var jilin string
	if err := pool.QueryRow(ctx, `SELECT string_agg(name, ',' ORDER BY name) FROM villageplan.water_facilities
		WHERE geom && ST_MakeEnvelope(121.6, 40.8, 131.3, 46.3, 4490) AND name IN ('长春','吉林','四平','辽源','浑江','白城','延吉','通化')`).Scan(&jilin); err != nil {
		t.Fatal(err)
	}
	if jilin != "吉林,四平,延吉,浑江,白城,辽源,通化,长春" {
		t.Errorf("Jilin prefecture names: %q", jilin)
	}
	// With --encoding GBK the same names come out, and the source is said.
	sum, err = Import(ctx, pool, pts, []string{realData(t, "shp/china_res2_4m_prefecture_points_gbk.shp")},
		Options{Mode: Replace, DryRun: true, CRS: "EPSG:4326", Encoding: "GBK", Map: []string{"NAME=name"}, Set: []string{"kind=水厂"}, AllowOutside: true})
	if err != nil || sum.Files[0].Encoding != "GBK" || sum.Files[0].EncodingFrom != "--encoding" {
		t.Errorf("--encoding GBK: %v %+v", err, sum.Files)
	}
}
