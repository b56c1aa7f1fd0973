package imports

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	shp "github.com/jonas-p/go-shp"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
	"villageplan/internal/testpg"
)

// TestGeoJSONForms: a single Feature and a single geometry with Z
// coordinates (dropped with a warning, not an error).
func TestGeoJSONForms(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "hazard_zones")
	sum, err := Import(ctx, pool, l, []string{realData(t, "geojson-fixtures/feature/one.geojson"), realData(t, "geojson-fixtures/geometry/polygon-xyz.geojson")},
		Options{Map: []string{"prop0=name", "prop1=hazard_type"}, Set: []string{"kind=洪泛区"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 2 || !strings.Contains(strings.Join(sum.Warnings, "\n"), "Z/M coordinates dropped") || !strings.Contains(strings.Join(sum.Warnings, "\n"), "single Polygon") {
		t.Fatalf("loaded %d, warnings %v", sum.Loaded, sum.Warnings)
	}
	var name, ht string
	var dims int
	if err := pool.QueryRow(ctx, `SELECT name, hazard_type, max(ST_NDims(geom)) OVER () FROM villageplan.hazard_zones ORDER BY id LIMIT 1`).Scan(&name, &ht, &dims); err != nil {
		t.Fatal(err)
	}
	if name != "value0" || ht != `{"this":"that"}` || dims != 2 {
		t.Errorf("name %q hazard_type %q dims %d", name, ht, dims)
	}
}

// TestRejections: code-list values, geometry types, unknown CRS and a
// cancelled import are reported and leave the layer unchanged.
func TestRejections(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	farm := layer(t, "permanent_farmland")
	file := realData(t, "osm/derived/north-bayreuth_landuse_agri.geojson")

	_, err := Import(ctx, pool, farm, []string{file}, Options{Map: []string{"osm_id,osm_way_id=yjjbnttbbh", "landuse=dlbm"}})
	var ie *Error
	if !errors.As(err, &ie) || ie.Total != 390 || len(ie.Problems) != 50 ||
		!strings.Contains(ie.Problems[0].Reason, "is not in the code list dlbm") || !strings.Contains(err.Error(), "--set FIELD=VALUE") {
		t.Fatalf("code list: %v", err)
	}
	if _, err := Import(ctx, pool, farm, []string{file}, Options{Set: []string{"dlbm=9999"}}); err == nil || !strings.Contains(err.Error(), `"9999" is not in the code list`) {
		t.Errorf("--set with a bad code: %v", err)
	}
	// Required field never mapped.
	_, err = Import(ctx, pool, farm, []string{file}, Options{Set: []string{"dlbm=旱地"}})
	if !errors.As(err, &ie) || !strings.Contains(ie.Problems[0].Reason, "required field yjjbnttbbh") {
		t.Errorf("required: %v", err)
	}
	// Lines into a polygon layer.
	_, err = Import(ctx, pool, farm, []string{realData(t, "osm/derived/north-bayreuth_roads.geojson")}, Options{Map: []string{"osm_id=yjjbnttbbh"}, Set: []string{"dlbm=0103"}})
	if !errors.As(err, &ie) || !strings.Contains(ie.Problems[0].Reason, "geometry type LineString cannot be loaded into a MultiPolygon layer") {
		t.Errorf("geometry type: %v", err)
	}
	// A CRS the file names but villageplan does not know.
	dir := t.TempDir()
	odd := filepath.Join(dir, "odd.geojson")
	os.WriteFile(odd, []byte(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2385"}},"features":[]}`), 0o644)
	if _, err := Import(ctx, pool, farm, []string{odd}, Options{}); err == nil || !strings.Contains(err.Error(), "EPSG::2385") || !strings.Contains(err.Error(), "--crs EPSG:") {
		t.Errorf("unknown CRS: %v", err)
	}
	// Cancelled while reading: rolled back.
	cctx, cancel := context.WithCancel(ctx)
	_, err = Import(cctx, pool, farm, []string{file}, Options{Map: []string{"osm_id,osm_way_id=yjjbnttbbh"}, Set: []string{"dlbm=0103"},
		Progress: func(p Progress) {
			if p.Phase == "check" {
				cancel()
			}
		}})
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "cancel") {
		t.Errorf("cancelled import: %v", err)
	}
	if n := count(t, pool, farm); n != 0 {
		t.Errorf("%d features after failed imports", n)
	}
	var hist int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.edit_history) + (SELECT count(*) FROM villageplan.edit_batch)
		+ (SELECT count(*) FROM villageplan.edit_batch_prior)`).Scan(&hist); err != nil || hist != 0 {
		t.Errorf("edit history after failed imports: %d %v", hist, err)
	}
}

// TestGaussKrugerInputs: a GeoJSON with a crs member in zone 42 (with zone
// number) and a CSV of survey points with X = northing.
func TestGaussKrugerInputs(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	dir := t.TempDir()
	gj := filepath.Join(dir, "zone42.geojson")
	// A 20 m × 20 m square in 双阳 on the zone-42 plane (easting first, as GDAL writes).
	os.WriteFile(gj, []byte(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4530"}},"features":[
	{"type":"Feature","properties":{"ZDDM":"220112203300JC00009","XZQDM":"220112203300","status":"已登记"},
	 "geometry":{"type":"Polygon","coordinates":[[[42555000,4820000],[42555020,4820000],[42555020,4820020],[42555000,4820020],[42555000,4820000]]]}}]}`), 0o644)
	sum, err := Import(ctx, pool, layer(t, "homesteads"), []string{gj}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files[0].EPSG != 4530 {
		t.Errorf("EPSG %d", sum.Files[0].EPSG)
	}
	var area, lon float64
	if err := pool.QueryRow(ctx, `SELECT ST_Area(ST_Transform(geom, 4530)), ST_X(ST_Centroid(geom)) FROM villageplan.homesteads`).Scan(&area, &lon); err != nil {
		t.Fatal(err)
	}
	if area < 399.999 || area > 400.001 || lon < 126.6 || lon > 126.8 {
		t.Errorf("area %.4f m², lon %.4f", area, lon)
	}

	sum, err = Import(ctx, pool, layer(t, "streetlights"), []string{realData(t, "jzd-txt/htoooth_TEST1_idxy_northing_first.csv")},
		Options{CRS: "EPSG:4549", Map: []string{"id=pole_id"}, Set: []string{"status=正常"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum.Text())
	if sum.Loaded != 429 || !strings.Contains(strings.Join(sum.Warnings, " "), "northings") {
		t.Fatalf("loaded %d, warnings %v", sum.Loaded, sum.Warnings)
	}
	var minN, maxN float64
	if err := pool.QueryRow(ctx, `SELECT min(ST_Y(ST_Transform(geom, 4549))), max(ST_Y(ST_Transform(geom, 4549))) FROM villageplan.streetlights`).Scan(&minN, &maxN); err != nil {
		t.Fatal(err)
	}
	if minN < 3504053 || maxN > 3505987 {
		t.Errorf("northings %.1f–%.1f, want 3 504 054–3 505 986", minN, maxN)
	}
}

// TestGeoPackageByGDAL: a GeoPackage written by GDAL with two layers; the
// layer is chosen by name, and the CRS comes from gpkg_spatial_ref_sys.
func TestGeoPackageByGDAL(t *testing.T) {
	bin, err := exec.LookPath("ogr2ogr")
	if err != nil {
		t.Fatal("ogr2ogr (GDAL) not installed: apt-get install gdal-bin (make test installs it)")
	}
	ctx := context.Background()
	pool := testpg.New(t)
	gpkg := filepath.Join(t.TempDir(), "two.gpkg")
	for _, args := range [][]string{
		{"-f", "GPKG", gpkg, realData(t, "osm/derived/heidelberg_street_lamps.geojson"), "-nln", "lamps"},
		{"-f", "GPKG", "-update", gpkg, realData(t, "changchun_220100_districts_datav.geojson"), "-nln", "districts", "-a_srs", "EPSG:4490"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
		}
	}
	l := layer(t, "streetlights")
	opts := Options{Map: []string{"osm_id=pole_id"}, Set: []string{"status=正常"}}
	if _, err := Import(ctx, pool, l, []string{gpkg}, opts); err == nil || !strings.Contains(err.Error(), "districts, lamps") || !strings.Contains(err.Error(), "--source-layer") {
		t.Fatalf("want the layer list, got %v", err)
	}
	opts.SourceLayer = "lamps"
	sum, err := Import(ctx, pool, l, []string{gpkg}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 38 || sum.Files[0].EPSG != 4326 || sum.Files[0].Layer != "lamps" {
		t.Errorf("loaded %d, EPSG %d, layer %s", sum.Loaded, sum.Files[0].EPSG, sum.Files[0].Layer)
	}
	sum, err = Import(ctx, pool, layer(t, "villages"), []string{gpkg}, Options{SourceLayer: "districts", FromGCJ02: true, Repair: true,
		Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 11 || sum.Repaired != 2 || sum.Files[0].EPSG != 4490 {
		t.Errorf("districts: loaded %d, repaired %d, EPSG %d", sum.Loaded, sum.Repaired, sum.Files[0].EPSG)
	}
}

// TestShapefileChineseFieldNames: DBF field names in GBK (地类编码, 图斑编号)
// map to the catalog by Chinese title; the .cpg says GBK; a multipart
// polygon record with a hole becomes one MultiPolygon (holes by
// containment); the ESRI .prj of zone 42 is recognised.
func TestShapefileChineseFieldNames(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "地类图斑")
	w, err := shp.Create(base+".shp", shp.POLYGON)
	if err != nil {
		t.Fatal(err)
	}
	name := func(s string) [11]byte {
		var n [11]byte
		b, _ := exchange.Encode(exchange.GBK, s)
		copy(n[:], b)
		return n
	}
	fields := []shp.Field{{Name: name("地类编码"), Fieldtype: 'C', Size: 5}, {Name: name("图斑编号"), Fieldtype: 'C', Size: 8}, {Name: name("坐落单位"), Fieldtype: 'C', Size: 40}}
	if err := w.SetFields(fields); err != nil {
		t.Fatal(err)
	}
	// Zone 42 with zone number: an outer square with a hole, plus a
	// second square (clockwise outer rings, as ESRI writes them).
	sq := func(x, y, d float64, cw bool) []shp.Point {
		if cw {
			return []shp.Point{{X: x, Y: y}, {X: x, Y: y + d}, {X: x + d, Y: y + d}, {X: x + d, Y: y}, {X: x, Y: y}}
		}
		return []shp.Point{{X: x, Y: y}, {X: x + d, Y: y}, {X: x + d, Y: y + d}, {X: x, Y: y + d}, {X: x, Y: y}}
	}
	pl := shp.NewPolyLine([][]shp.Point{sq(42555000, 4820000, 100, true), sq(42555040, 4820040, 20, false), sq(42555200, 4820000, 50, true)})
	pg := shp.Polygon(*pl)
	w.Write(&pg)
	for i, v := range []string{"0103", "00000001", "大营村"} {
		b, _ := exchange.Encode(exchange.GBK, v)
		if err := w.WriteAttribute(0, i, string(b)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := os.Rename(base+"dbf", base+".dbf"); err != nil { // go-shp v0.1.1 names it without the dot
		t.Fatal(err)
	}
	wkt, _ := crs.ESRIWKT(4530)
	os.WriteFile(base+".prj", []byte(wkt), 0o644)
	os.WriteFile(base+".cpg", []byte("GBK"), 0o644)

	sum, err := Import(ctx, pool, layer(t, "land_use"), []string{base + ".shp"}, Options{Map: []string{"坐落单位=zldwmc"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := sum.Files[0]; f.EPSG != 4530 || f.Encoding != exchange.GBK || !strings.HasPrefix(f.EncodingFrom, ".cpg") || strings.Join(f.Fields, ",") != "地类编码,图斑编号,坐落单位" {
		t.Fatalf("file info %+v", f)
	}
	var dlbm, tbbh, zl string
	var parts, holes int
	var area float64
	if err := pool.QueryRow(ctx, `SELECT dlbm, tbbh, zldwmc, ST_NumGeometries(geom), (SELECT sum(ST_NumInteriorRings(d.geom))::int FROM ST_Dump(geom) d), ST_Area(ST_Transform(geom, 4530)) FROM villageplan.land_use`).
		Scan(&dlbm, &tbbh, &zl, &parts, &holes, &area); err != nil {
		t.Fatal(err)
	}
	if dlbm != "0103" || tbbh != "00000001" || zl != "大营村" || parts != 2 || holes != 1 || area < 10000-400+2500-0.01 || area > 10000-400+2500+0.01 {
		t.Errorf("dlbm %s tbbh %s zldwmc %s, %d parts, %d holes, %.3f m²", dlbm, tbbh, zl, parts, holes, area)
	}
}
