package imports

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"villageplan/internal/exchange"
	"villageplan/internal/testpg"
)

// gdal runs a GDAL command-line tool (ogr2ogr, ogrinfo) and fails the test
// when GDAL is missing: these tests are about files other tools write, so
// they must not pass without the other tool.
func gdal(t *testing.T, tool string, args ...string) string {
	t.Helper()
	return runGDAL(t, tool, args...)
}

func runGDAL(t testing.TB, tool string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s (GDAL) is not installed: apt-get install gdal-bin", tool)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cmd.Environ(), "CPL_DEBUG=OFF")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGeoJSONFeatureIDMapped: DataV and ECharts files keep the 区划代码 in
// the Feature's top-level "id"; --map id=xzqdm loads it. Files: GDAL's
// GeoJSON writer with integer ids (ID_TYPE=Integer: a bare 12-digit
// number, which must not become 2.2e+11) and with string ids, and an
// ECharts-style file mixing both, where one feature also has an "id"
// property (which then wins for "id"; "@id" still reaches the Feature id).
func TestGeoJSONFeatureIDMapped(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	dir := t.TempDir()
	csv := writeFile(t, filepath.Join(dir, "v.csv"), `WKT,code,name
"POLYGON((125.70 43.50,125.705 43.50,125.705 43.505,125.70 43.505,125.70 43.50))",220112203300,大营村
"POLYGON((125.71 43.50,125.715 43.50,125.715 43.505,125.71 43.505,125.71 43.50))",220112203301,鲁家村
`)
	intIDs := filepath.Join(dir, "int.geojson")
	gdal(t, "ogr2ogr", "-f", "GeoJSON", "-a_srs", "EPSG:4326", "-lco", "ID_FIELD=code", "-lco", "ID_TYPE=Integer", intIDs, csv)
	strCSV := writeFile(t, filepath.Join(dir, "s.csv"), strings.NewReplacer("220112203300", "220112203302", "220112203301", "220112203303", "大营村", "王家村", "鲁家村", "张家村").Replace(mustRead(t, csv)))
	strIDs := filepath.Join(dir, "str.geojson")
	gdal(t, "ogr2ogr", "-f", "GeoJSON", "-a_srs", "EPSG:4326", "-lco", "ID_FIELD=code", "-lco", "ID_TYPE=String", strIDs, strCSV)
	for _, f := range []struct{ path, want string }{{intIDs, `"id": 220112203300,`}, {strIDs, `"id": "220112203302",`}} {
		if b := mustRead(t, f.path); !strings.Contains(b, f.want) || strings.Contains(b, `"code"`) {
			t.Fatalf("GDAL did not write the code as the Feature id (%s):\n%s", f.want, b)
		}
	}
	echarts := writeFile(t, filepath.Join(dir, "echarts.json"), `{"type":"FeatureCollection","features":[
{"type":"Feature","id":220112203304,"properties":{"name":"聂家村"},"geometry":{"type":"Polygon","coordinates":[[[125.72,43.50],[125.725,43.50],[125.725,43.505],[125.72,43.50]]]}},
{"type":"Feature","id":"220112203305","properties":{"name":"双营子村","cp":[125.73,43.50]},"geometry":{"type":"Polygon","coordinates":[[[125.73,43.50],[125.735,43.50],[125.735,43.505],[125.73,43.50]]]}},
{"type":"Feature","id":"220112203399","properties":{"name":"两家子村","ID":"220112203306"},"geometry":{"type":"Polygon","coordinates":[[[125.74,43.50],[125.745,43.50],[125.745,43.505],[125.74,43.50]]]}}
]}`)
	l := layer(t, "villages")
	opts := Options{Map: []string{"id=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类"}}
	sum, err := Import(ctx, pool, l, []string{intIDs, strIDs, echarts}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 7 || sum.Mapping["xzqdm"] == "" {
		t.Fatalf("loaded %d, mapping %v", sum.Loaded, sum.Mapping)
	}
	got := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT xzqdm, xzqmc FROM villageplan.villages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			t.Fatal(err)
		}
		got[name] = code
	}
	rows.Close()
	want := map[string]string{"大营村": "220112203300", "鲁家村": "220112203301", "王家村": "220112203302", "张家村": "220112203303", "聂家村": "220112203304", "双营子村": "220112203305", "两家子村": "220112203306"}
	for name, code := range want {
		if got[name] != code {
			t.Errorf("%s: xzqdm %q, want %q (all: %v)", name, got[name], code, got)
		}
	}
	if n := count(t, pool, l); n != 7 {
		t.Errorf("%d villages", n)
	}

	// "@id" is the Feature id even where a property is called ID.
	pool2 := testpg.New(t)
	opts.Map = []string{"@id=xzqdm", "name=xzqmc"}
	if _, err := Import(ctx, pool2, l, []string{echarts}, opts); err != nil {
		t.Fatal(err)
	}
	var code string
	if err := pool2.QueryRow(ctx, `SELECT xzqdm FROM villageplan.villages WHERE xzqmc = '两家子村'`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if code != "220112203399" {
		t.Errorf("@id: xzqdm %q, want the Feature id 220112203399", code)
	}

	// Without --map the id is not taken silently: xzqdm is required.
	_, err = Import(ctx, pool2, l, []string{intIDs}, Options{Map: []string{"name=xzqmc"}, Set: []string{"czlx=暂不分类"}})
	if err == nil || !strings.Contains(err.Error(), "required field xzqdm") {
		t.Errorf("without --map id=xzqdm: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// zone42 is a GeoJSON FeatureCollection in CGCS2000 3-degree Gauss-Krüger
// zone 42 (EPSG:4530, easting with zone number) near the sample township,
// every position with a height: polygons with holes and several parts,
// lines of one and two parts, points.
const zone42Polygons = `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4530"}},"features":[
{"type":"Feature","properties":{"name":"甲","kind":"洪泛区"},"geometry":{"type":"Polygon","coordinates":[
  [[42480600,4829000,215.5],[42480700,4829000,215.5],[42480700,4829100,216],[42480600,4829100,216],[42480600,4829000,215.5]],
  [[42480640,4829040,215],[42480640,4829060,215],[42480660,4829060,215],[42480660,4829040,215],[42480640,4829040,215]]]}},
{"type":"Feature","properties":{"name":"乙","kind":"洪泛区"},"geometry":{"type":"MultiPolygon","coordinates":[
  [[[42480800,4829000,210],[42480850,4829000,210],[42480850,4829050,211],[42480800,4829050,211],[42480800,4829000,210]],
   [[42480820,4829020,210],[42480820,4829030,210],[42480830,4829030,210],[42480830,4829020,210],[42480820,4829020,210]]],
  [[[42480900,4829000,209],[42480930,4829000,209],[42480930,4829040,209],[42480900,4829040,209],[42480900,4829000,209]]]]}},
{"type":"Feature","properties":{"name":"丙","kind":"洪泛区"},"geometry":{"type":"Polygon","coordinates":[
  [[42481000,4829000,0],[42481060,4829000,0],[42481060,4829050,0],[42481000,4829050,0],[42481000,4829000,0]]]}}
]}`

const zone42Lines = `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4530"}},"features":[
{"type":"Feature","properties":{"lxmc":"大营路"},"geometry":{"type":"LineString","coordinates":[[42480600,4828900,200],[42480700,4828900,201],[42480700,4828850,202]]}},
{"type":"Feature","properties":{"lxmc":"鲁家路"},"geometry":{"type":"MultiLineString","coordinates":[
  [[42480800,4828900,200],[42480880,4828900,200]],[[42480900,4828900,200],[42480900,4828940,200]]]}}
]}`

const zone42Points = `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4530"}},"features":[
{"type":"Feature","properties":{"pole_id":"P1"},"geometry":{"type":"Point","coordinates":[42480600,4828800,200]}},
{"type":"Feature","properties":{"pole_id":"P2"},"geometry":{"type":"Point","coordinates":[42480630,4828800,201]}},
{"type":"Feature","properties":{"pole_id":"P3"},"geometry":{"type":"Point","coordinates":[42480660,4828800,202]}}
]}`

// shpFirstRecordHasM reads the first record of a PolyLineZ/PolygonZ
// shapefile and reports whether its content length includes the optional
// M range and values (ESRI Shapefile Technical Description, p. 15–16).
func shpFirstRecordHasM(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	be, le := binary.BigEndian, binary.LittleEndian
	content := int(be.Uint32(b[104:108])) * 2
	np, n := int(le.Uint32(b[108+36:])), int(le.Uint32(b[108+40:]))
	withoutM := 44 + 4*np + 16*n + 16 + 8*n
	switch content {
	case withoutM:
		return false
	case withoutM + 16 + 8*n:
		return true
	}
	t.Fatalf("%s: record 1 has %d bytes, neither %d (Z) nor %d (Z and M)", path, content, withoutM, withoutM+16+8*n)
	return false
}

// zone42Shapefiles has GDAL write the three files as shapefiles with
// ogr2ogr -dim dim (XYZ: PolygonZ/PolyLineZ/PointZ without M, GDAL's
// default for 3D data; XYZM: with M) and returns their paths.
func zone42Shapefiles(t *testing.T, dir, dim string) (polygons, lines, points string) {
	return zone42Written(t, dir, dim, ".shp", "UTF-8")
}

// zone42Written is zone42Shapefiles with the output extension (".shp" or
// ".shp.zip", which GDAL writes as a zipped shapefile) and the DBF
// encoding (GDAL writes it to the .cpg: "UTF-8" or "CP936").
func zone42Written(t *testing.T, dir, dim, ext, enc string) (polygons, lines, points string) {
	t.Helper()
	paths := make([]string, 3)
	for i, src := range []struct{ name, text string }{{"hazard", zone42Polygons}, {"roads", zone42Lines}, {"lights", zone42Points}} {
		in := writeFile(t, filepath.Join(dir, "src", src.name+".geojson"), src.text)
		paths[i] = filepath.Join(dir, src.name+ext)
		gdal(t, "ogr2ogr", "-f", "ESRI Shapefile", "-dim", dim, "-lco", "ENCODING="+enc, paths[i], in)
	}
	return paths[0], paths[1], paths[2]
}

// checkZone42 imports the three shapefiles and checks counts, parts,
// holes, areas and lengths on the zone-42 plane, and that Z was dropped.
// sourceLayers, when given, are the --source-layer of each file (the three
// may then be one .zip).
func checkZone42(t *testing.T, polygons, lines, points string, sourceLayers ...string) {
	t.Helper()
	ctx := context.Background()
	pool := testpg.New(t)
	sl := func(i int) string {
		if len(sourceLayers) > i {
			return sourceLayers[i]
		}
		return ""
	}
	sum, err := Import(ctx, pool, layer(t, "hazard_zones"), []string{polygons}, Options{SourceLayer: sl(0)})
	if err != nil {
		t.Fatalf("%s: %v", polygons, err)
	}
	if sum.Read != 3 || sum.Loaded != 3 || sum.Files[0].EPSG != 4530 || sum.Files[0].Encoding == "" || !strings.Contains(strings.Join(sum.Warnings, "\n"), "Z/M coordinates dropped") {
		t.Fatalf("%s: read %d, loaded %d, EPSG:%d, warnings %v", polygons, sum.Read, sum.Loaded, sum.Files[0].EPSG, sum.Warnings)
	}
	rows, err := pool.Query(ctx, `SELECT name, ST_NumGeometries(geom), (SELECT sum(ST_NumInteriorRings(d.geom))::int FROM ST_Dump(geom) d),
		ST_Area(ST_Transform(geom, 4530)), ST_NDims(geom) FROM villageplan.hazard_zones ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type poly struct {
		name         string
		parts, holes int
		area         float64
	}
	want := []poly{{"甲", 1, 1, 100*100 - 20*20}, {"乙", 2, 1, 50*50 - 10*10 + 30*40}, {"丙", 1, 0, 60 * 50}}
	i := 0
	for rows.Next() {
		var p poly
		var dims int
		if err := rows.Scan(&p.name, &p.parts, &p.holes, &p.area, &dims); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more polygons than %d", len(want))
		}
		w := want[i]
		if p.name != w.name || p.parts != w.parts || p.holes != w.holes || math.Abs(p.area-w.area) > 0.01 || dims != 2 {
			t.Errorf("polygon %d: %+v (%d dims), want %+v", i+1, p, dims, w)
		}
		i++
	}
	rows.Close()
	if i != len(want) {
		t.Fatalf("%d polygons, want %d", i, len(want))
	}

	sum, err = Import(ctx, pool, layer(t, "roads"), []string{lines}, Options{SourceLayer: sl(1), Set: []string{"admin_grade=村道"}})
	if err != nil {
		t.Fatalf("%s: %v", lines, err)
	}
	var parts int
	var length float64
	var names string
	if err := pool.QueryRow(ctx, `SELECT sum(ST_NumGeometries(geom))::int, sum(ST_Length(ST_Transform(geom, 4530))), string_agg(lxmc, ',' ORDER BY id) FROM villageplan.roads`).
		Scan(&parts, &length, &names); err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 2 || parts != 3 || math.Abs(length-(100+50+80+40)) > 0.01 || names != "大营路,鲁家路" {
		t.Errorf("%s: loaded %d, %d parts, %.3f m, names %s", lines, sum.Loaded, parts, length, names)
	}

	sum, err = Import(ctx, pool, layer(t, "streetlights"), []string{points}, Options{SourceLayer: sl(2), Set: []string{"status=正常"}})
	if err != nil {
		t.Fatalf("%s: %v", points, err)
	}
	var span float64
	if err := pool.QueryRow(ctx, `SELECT ST_Distance(ST_Transform(a.geom, 4530), ST_Transform(b.geom, 4530)) FROM villageplan.streetlights a, villageplan.streetlights b
		WHERE a.pole_id = 'P1' AND b.pole_id = 'P3'`).Scan(&span); err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 3 || math.Abs(span-60) > 0.01 {
		t.Errorf("%s: loaded %d, P1–P3 %.3f m", points, sum.Loaded, span)
	}
}

// TestShapefileZByGDAL: PolygonZ, PolyLineZ and PointZ shapefiles as GDAL
// writes 3D data by default — without the optional M values, so each
// record is shorter than one with M and the last one ends the file — import
// with Z dropped, counts, parts, holes, areas and lengths exact on the
// zone-42 plane. The same files with M (-dim XYZM) import too.
func TestShapefileZByGDAL(t *testing.T) {
	for _, dim := range []string{"XYZ", "XYZM"} {
		t.Run(dim, func(t *testing.T) {
			polygons, lines, points := zone42Shapefiles(t, t.TempDir(), dim)
			info := gdal(t, "ogrinfo", "-ro", "-so", "-al", polygons)
			wantType := map[string]string{"XYZ": "Geometry: 3D Polygon\n", "XYZM": "Geometry: 3D Measured Polygon\n"}[dim]
			if !strings.Contains(info, wantType) {
				t.Fatalf("GDAL did not write a %s shapefile:\n%s", dim, info)
			}
			for _, p := range []string{polygons, lines} {
				if hasM := shpFirstRecordHasM(t, p); hasM != (dim == "XYZM") {
					t.Fatalf("%s: M values present %v, want %v", p, hasM, dim == "XYZM")
				}
			}
			checkZone42(t, polygons, lines, points)
		})
	}
}

// TestZippedAndUpperCaseShapefiles: shapefiles as they arrive from
// surveyors import — zipped by GDAL (.shp.zip), with upper-case extensions
// (.SHP/.SHX/.DBF/.PRJ/.CPG, GBK text named by the .CPG), and in a zip
// made on Chinese Windows (GBK member names, a sub-folder per layer,
// several layers chosen with --source-layer, a readme and macOS debris
// beside them). Hostile archives are refused: a member outside the archive
// ("../"), a member larger than the limit, a member that inflates beyond
// its declared size; nothing is left in the temporary folder.
func TestZippedAndUpperCaseShapefiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the importer unpacks

	t.Run("GDAL .shp.zip", func(t *testing.T) {
		polygons, lines, points := zone42Written(t, t.TempDir(), "XYZ", ".shp.zip", "CP936")
		checkZone42(t, polygons, lines, points)
	})

	// GDAL-written GBK shapefiles renamed to upper case.
	dir := t.TempDir()
	polygons, lines, points := zone42Written(t, dir, "XYZ", ".shp", "CP936")
	upper := map[string][]string{} // layer → its upper-case files
	for _, p := range []string{polygons, lines, points} {
		base := strings.TrimSuffix(p, ".shp")
		for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
			up := filepath.Join(filepath.Dir(base), strings.ToUpper(filepath.Base(base)+ext))
			if err := os.Rename(base+ext, up); err != nil {
				t.Fatalf("GDAL did not write %s: %v", base+ext, err)
			}
			upper[filepath.Base(base)] = append(upper[filepath.Base(base)], up)
		}
	}
	t.Run("upper-case extensions", func(t *testing.T) {
		checkZone42(t, filepath.Join(dir, "HAZARD.SHP"), filepath.Join(dir, "ROADS.SHP"), filepath.Join(dir, "LIGHTS.SHP"))
	})

	// A zip as made on Chinese Windows: GBK names without the UTF-8 flag.
	survey := filepath.Join(t.TempDir(), "成果.zip")
	folders := map[string]string{"hazard": "双营子成果/灾害/", "roads": "双营子成果/道路/", "lights": "双营子成果/路灯/"}
	writeZip(t, survey, func(zw *zip.Writer) {
		for name, files := range upper {
			for _, f := range files {
				zipAdd(t, zw, folders[name]+filepath.Base(f), mustRead(t, f), true)
			}
		}
		zipAdd(t, zw, "双营子成果/说明.txt", "坐标系 CGCS2000 3度带 42带", true)
		zipAdd(t, zw, "__MACOSX/双营子成果/灾害/._HAZARD.SHP", "junk", false)
	})
	t.Run("survey zip", func(t *testing.T) {
		ctx := context.Background()
		pool := testpg.New(t)
		_, err := Import(ctx, pool, layer(t, "hazard_zones"), []string{survey}, Options{})
		if err == nil || !strings.Contains(err.Error(), "--source-layer") || !strings.Contains(err.Error(), "双营子成果/灾害/HAZARD") ||
			!strings.Contains(err.Error(), "双营子成果/道路/ROADS") || !strings.Contains(err.Error(), "3 shapefiles") {
			t.Fatalf("several layers without --source-layer: %v", err)
		}
		_, err = Import(ctx, pool, layer(t, "hazard_zones"), []string{survey}, Options{SourceLayer: "DLTB"})
		if err == nil || !strings.Contains(err.Error(), `no shapefile "DLTB"`) {
			t.Fatalf("unknown --source-layer: %v", err)
		}
		checkZone42(t, survey, survey, survey, "hazard", "双营子成果/道路/ROADS.SHP", "双营子成果/路灯/LIGHTS")
		sum, err := Import(ctx, pool, layer(t, "hazard_zones"), []string{survey}, Options{SourceLayer: "hazard", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if f := sum.Files[0]; f.Layer != "双营子成果/灾害/HAZARD" || f.Path != survey+"/双营子成果/灾害/HAZARD.SHP" || f.Encoding != "GBK" || !strings.Contains(f.EncodingFrom, ".cpg") {
			t.Errorf("file info %+v", f)
		}
	})

	t.Run("hostile archives", func(t *testing.T) {
		ctx := context.Background()
		pool := testpg.New(t)
		l := layer(t, "hazard_zones")
		hz := upper["hazard"]
		evil := filepath.Join(t.TempDir(), "evil.zip")
		writeZip(t, evil, func(zw *zip.Writer) {
			for _, f := range hz {
				zipAdd(t, zw, "../../"+filepath.Base(f), mustRead(t, f), false)
			}
		})
		if _, err := Import(ctx, pool, l, []string{evil}, Options{}); err == nil || !strings.Contains(err.Error(), "points outside the archive") {
			t.Errorf("../ member: %v", err)
		}

		big := filepath.Join(t.TempDir(), "big.zip")
		writeZip(t, big, func(zw *zip.Writer) {
			for _, f := range hz {
				zipAdd(t, zw, filepath.Base(f), mustRead(t, f), false)
			}
		})
		old := zipMaxMember
		zipMaxMember = 200 // the .shp has 100 + 3 records
		_, err := Import(ctx, pool, l, []string{big}, Options{})
		zipMaxMember = old
		if err == nil || !strings.Contains(err.Error(), "more than the 200 allowed") {
			t.Errorf("member over the limit: %v", err)
		}

		// A member that declares 1 000 bytes and inflates to 64 MiB.
		bomb := filepath.Join(t.TempDir(), "bomb.zip")
		writeZip(t, bomb, func(zw *zip.Writer) {
			for _, f := range hz {
				if strings.HasSuffix(f, ".SHP") {
					zipForged(t, zw, "HAZARD.SHP", 64<<20, 1000)
					continue
				}
				zipAdd(t, zw, filepath.Base(f), mustRead(t, f), false)
			}
		})
		if _, err := Import(ctx, pool, l, []string{bomb}, Options{}); err == nil || !strings.Contains(err.Error(), "damaged or forged member") {
			t.Errorf("forged size: %v", err)
		}
		if n := count(t, pool, l); n != 0 {
			t.Errorf("%d features loaded from hostile archives", n)
		}
	})

	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "villageplan-zip-") {
			t.Errorf("unpacked folder %s left behind", e.Name())
		}
	}
}

func writeZip(t *testing.T, path string, fill func(*zip.Writer)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	fill(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// zipAdd adds a deflated member; gbk writes its name in GBK without the
// UTF-8 flag, as the Windows zip tool of a Chinese system does.
func zipAdd(t *testing.T, zw *zip.Writer, name, content string, gbk bool) {
	t.Helper()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	if gbk {
		b, err := exchange.Encode(exchange.GBK, name)
		if err != nil {
			t.Fatal(err)
		}
		h.Name, h.NonUTF8 = string(b), true
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
}

// zipForged adds a member of n zero bytes whose header declares only
// declared bytes (a zip bomb's lie).
func zipForged(t *testing.T, zw *zip.Writer, name string, n int, declared uint64) {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, n)
	fw.Write(zeros)
	fw.Close()
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(zeros[:declared]),
		CompressedSize64: uint64(buf.Len()), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(buf.Bytes())
}
