package exports

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"villageplan/data/testdata"

	"testing"
	"villageplan/geo/jzd"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/exchange"
	"villageplan/internal/features"
	"villageplan/internal/imports"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// realData returns the path of a real third-party file under
// data/testdata/real (SOURCES.md there).
func realData(t testing.TB, rel string) string {
	t.Helper()
	return testdata.Real(t, rel)
}

func layer(t testing.TB, id string) *layers.Layer {
	t.Helper()
	l, ok := layers.Default().Layer(id)
	if !ok {
		t.Fatalf("no layer %s", id)
	}
	return l
}

// homesteadsGeoJSON is a small homestead layer with what the exporters must
// carry: a parcel with a hole, a two-part parcel, Chinese text, a date, a
// real, and personal data.
const homesteadsGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"宗地代码":"220112203300JC00001","坐落":"双营子回族乡大营村一组","status":"已批准","zdmj":312.5,"approved_on":"2024-05-31","holder_name":"张三","approval_number":"双营子宅批〔2024〕1号"},
 "geometry":{"type":"Polygon","coordinates":[[[125.70,43.50],[125.7010,43.50],[125.7010,43.5008],[125.70,43.5008],[125.70,43.50]],[[125.7003,43.5002],[125.7003,43.5005],[125.7006,43.5005],[125.7006,43.5002],[125.7003,43.5002]]]}},
{"type":"Feature","properties":{"ZDDM":"220112203301JC00002","ZL":"鲁家村","status":"已登记","holder_name":"李四"},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[125.71,43.51],[125.7105,43.51],[125.7105,43.5104],[125.71,43.5104],[125.71,43.51]]],[[[125.712,43.51],[125.7125,43.51],[125.7125,43.5104],[125.712,43.5104],[125.712,43.51]]]]}}
]}`

// setup fills villages (10 Changchun districts from the UTF-8 shapefile,
// GCJ-02), homesteads (the small file above plus the 界址点 parcel of
// Hangzhou), roads and streetlights (OSM). The villages are 长春's
// districts, so the Hangzhou parcel and the German OSM data lie outside
// that "township" and are loaded with AllowOutside on purpose.
func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool := testpg.New(t)
	dir := t.TempDir()
	hs := filepath.Join(dir, "homesteads.geojson")
	if err := os.WriteFile(hs, []byte(homesteadsGeoJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	loads := []struct {
		layer string
		files []string
		opts  imports.Options
	}{
		{"villages", []string{realData(t, "shp/changchun_districts_gcj02_utf8_nocpg.shp")},
			imports.Options{FromGCJ02: true, Map: []string{"adcode=xzqdm", "name=xzqmc"}, Set: []string{"czlx=暂不分类", "households=1200", "township_code=220112203"}}},
		{"homesteads", []string{hs, realData(t, "jzd-txt/hangzhou_pengbu_BR14_zone40.gbk_crlf.txt")},
			imports.Options{Set: []string{"xzqdm=220112203300", "status=已登记"}, AllowOutside: true}},
		{"roads", []string{realData(t, "osm/derived/north-bayreuth_roads.geojson")},
			imports.Options{Map: []string{"name=lxmc"}, Set: []string{"admin_grade=村道", "pavement_width=4.5"}, AllowOutside: true}},
		{"streetlights", []string{realData(t, "osm/derived/heidelberg_street_lamps.geojson")},
			imports.Options{Map: []string{"osm_id=pole_id"}, Set: []string{"status=正常", "installed_on=2015-06-19"}, AllowOutside: true}},
	}
	for _, ld := range loads {
		if _, err := imports.Import(ctx, pool, layer(t, ld.layer), ld.files, ld.opts); err != nil {
			t.Fatalf("load %s: %v", ld.layer, err)
		}
	}
	return pool
}

func export(t *testing.T, pool *pgxpool.Pool, f Format, q *features.Query, opts Options) (string, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(context.Background(), pool, f, q, opts, &buf)
	if err != nil {
		t.Fatalf("export %s %s: %v", q.Layer.ID, f, err)
	}
	path := filepath.Join(t.TempDir(), q.Layer.ID+f.Extension())
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, res
}

// ogrinfo runs GDAL's ogrinfo on path (read-only) and returns its output;
// the test fails when GDAL is not installed (make test installs it).
func ogrinfo(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo (GDAL) not installed: apt-get install gdal-bin (make test installs it)")
	}
	out, err := exec.Command(bin, append([]string{"-ro"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// unzip extracts a zip into a new folder and returns the folder.
func unzip(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dbCount counts the features of a layer.
func dbCount(t *testing.T, pool *pgxpool.Pool, l *layers.Layer) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+l.QualifiedTable()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExportsOpenInGDAL exports every layer in every format and opens the
// file with GDAL: feature count, CRS (the .prj, GeoPackage srs and GeoJSON
// crs member recognised as the EPSG code) and Chinese text.
func TestExportsOpenInGDAL(t *testing.T) {
	pool := setup(t)
	text := map[string]string{"villages": "双阳区", "homesteads": "双营子回族乡大营村一组", "roads": "Bayreuther Straße", "streetlights": "2560765405"}
	type variant struct {
		format Format
		srid   int
		enc    string
		want   string // EPSG code GDAL must report, "" for none (CSV)
	}
	variants := []variant{
		{GeoJSON, 0, "", `ID["EPSG",4326]`},
		{GeoJSON, 4490, "", `ID["EPSG",4490]`},
		{GeoPackage, 0, "", `ID["EPSG",4490]`},
		{GeoPackage, 4551, "", `ID["EPSG",4551]`},
		{Shapefile, 0, "", `ID["EPSG",4490]`},
		{Shapefile, 4530, "GBK", `ID["EPSG",4530]`},
		{Shapefile, 4551, "UTF-8", `ID["EPSG",4551]`},
		{Shapefile, 4499, "GBK", `ID["EPSG",4499]`},
		{CSV, 0, "", ""},
		{CSV, 0, "GBK", ""},
		{KML, 0, "", `ID["EPSG",4326]`},
	}
	for _, id := range []string{"villages", "homesteads", "roads", "streetlights"} {
		l := layer(t, id)
		n := dbCount(t, pool, l)
		for _, v := range variants {
			if id == "roads" && v.srid >= 4491 && v.srid <= 4554 {
				continue // Bavaria is outside the Chinese Gauss-Krüger zones
			}
			if id == "roads" && v.enc == "GBK" {
				continue // German street names (ß) have no GBK code; see TestExportGBKUnrepresentable
			}
			name := fmt.Sprintf("%s/%s/%d/%s", id, v.format, v.srid, v.enc)
			t.Run(name, func(t *testing.T) {
				q := &features.Query{Layer: l, OutputSRID: v.srid}
				path, res := export(t, pool, v.format, q, Options{Encoding: v.enc})
				if res.Features != n {
					t.Fatalf("exported %d of %d features", res.Features, n)
				}
				open := path
				if v.format == Shapefile {
					open = "/vsizip/" + path
				}
				if v.format == CSV && v.enc == "GBK" {
					open = "CSV:" + path
				}
				args := []string{"-al", open}
				if v.format == CSV && v.enc == "GBK" {
					args = append([]string{"--config", "GDAL_CSV_ENCODING", "CP936"}, args...)
				}
				out := ogrinfo(t, args...)
				if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", n)) {
					t.Errorf("GDAL does not count %d features:\n%.2000s", n, out)
				}
				if v.want != "" && !strings.Contains(out, v.want) {
					t.Errorf("GDAL does not recognise the CRS as %s:\n%.2000s", v.want, out)
				}
				if v.format == CSV && v.enc == "GBK" {
					return // GDAL 3.6 has no CSV encoding option; checked by re-import
				}
				if !strings.Contains(out, text[id]) {
					t.Errorf("GDAL output lacks %q:\n%.3000s", text[id], out)
				}
			})
		}
	}
}

// TestShapefileDBF checks the DBF details: field names fitted to 10 bytes,
// language driver 0x4D and .cpg GBK, GBK bytes for the text.
func TestShapefileDBF(t *testing.T) {
	pool := setup(t)
	q := &features.Query{Layer: layer(t, "homesteads"), OutputSRID: 4530}
	path, res := export(t, pool, Shapefile, q, Options{Encoding: "GBK"})
	if len(res.Omitted) != 3 {
		t.Errorf("omitted personal fields %v", res.Omitted)
	}
	dir := unzip(t, path)
	dbf, err := os.ReadFile(filepath.Join(dir, "homesteads.dbf"))
	if err != nil {
		t.Fatal(err)
	}
	if dbf[29] != 0x4D {
		t.Errorf("language driver 0x%02X, want 0x4D", dbf[29])
	}
	cpg, _ := os.ReadFile(filepath.Join(dir, "homesteads.cpg"))
	if string(cpg) != "GBK" {
		t.Errorf(".cpg %q", cpg)
	}
	gbk := []byte{0xcb, 0xab, 0xd3, 0xaa, 0xd7, 0xd3} // 双营子 in GBK
	if !bytes.Contains(dbf, gbk) {
		t.Errorf("DBF does not hold 双营子 in GBK")
	}
	prj, _ := os.ReadFile(filepath.Join(dir, "homesteads.prj"))
	if !strings.HasPrefix(string(prj), `PROJCS["CGCS2000_3_Degree_GK_Zone_42"`) {
		t.Errorf(".prj %s", prj)
	}
	names := exchange.DBFNames(layer(t, "homesteads").Fields)
	want := []string{"ZDDM", "BDCDYH", "XZQDM", "ZL", "ZDMJ", "APPROVAL_N", "APPROVED_O", "STATUS", "HOUSEHOLD_", "HOLDER_NAM", "HOLDER_ID_", "DANGER_GRA", "TOILET_DON", "WATER_CONN"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("DBF names %v", names)
	}
	clash := exchange.DBFNames([]layers.Field{{Name: "approval_number"}, {Name: "approval_note"}, {Name: "approval_n"}})
	if strings.Join(clash, ",") != "APPROVAL_N,APPROVAL_1,APPROVAL_2" {
		t.Errorf("collisions %v", clash)
	}
}

// TestJZDExport writes the 双阳 homesteads in zone 42 and the Hangzhou
// parcel back in zone 40, and reads both files with geo/jzd.
func TestJZDExport(t *testing.T) {
	pool := setup(t)
	l := layer(t, "homesteads")
	q := &features.Query{Layer: l, BBox: &features.BBox{MinA1: 125, MinA2: 43, MaxA1: 126, MaxA2: 44}}
	path, res := export(t, pool, JZD, q, Options{})
	if res.EPSG != 4530 || res.Features != 2 {
		t.Fatalf("EPSG %d, %d features", res.EPSG, res.Features)
	}
	f := decodeJZD(t, path)
	if f.Encoding != jzd.GBK || !f.CRLF || f.Header["带号"] != "42" || f.Header["坐标系"] != "2000国家大地坐标系" || f.Header["计量单位"] != "米" {
		t.Errorf("header %v, encoding %s, CRLF %v", f.Header, f.Encoding, f.CRLF)
	}
	if code, err := f.EPSG(); err != nil || code != 4530 {
		t.Errorf("EPSG %d %v", code, err)
	}
	p := f.Parcels[0]
	if p.Number != "220112203300JC00001" || p.Name != "双营子回族乡大营村一组" || len(p.Rings) != 2 || p.Rings[0].Points[0].Name != "J1" {
		t.Errorf("parcel %+v", p)
	}
	// 0.001° × 0.0008° less the 0.0003° × 0.0003° hole, near 43.5°N.
	if p.AreaHa < 0.5 || p.AreaHa > 0.7 {
		t.Errorf("area %.4f ha", p.AreaHa)
	}
	if len(f.Parcels[1].Rings) != 2 {
		t.Errorf("two-part parcel has %d rings", len(f.Parcels[1].Rings))
	}

	q = &features.Query{Layer: l, OutputSRID: 4528, Equals: []features.Equal{{Field: mustField(t, l, "zddm"), Value: "1"}}}
	path, _ = export(t, pool, JZD, q, Options{Encoding: "UTF-8"})
	f = decodeJZD(t, path)
	p = f.Parcels[0]
	if len(f.Parcels) != 1 || len(p.Rings) != 1 || len(p.Rings[0].Points) != 66 || abs(p.AreaHa-5.7089) > 0.00011 || p.Name != "彭埠单元B/R-14地块" {
		t.Fatalf("Hangzhou parcel: %d parcels, area %v, name %s", len(f.Parcels), p.AreaHa, p.Name)
	}
	orig := decodeJZD(t, realData(t, "jzd-txt/hangzhou_pengbu_BR14_zone40.txt")).Parcels[0]
	for i, pt := range orig.Rings[0].Points {
		got := p.Rings[0].Points[i]
		if abs(got.North-pt.North) > 0.0015 || abs(got.East-pt.East) > 0.0015 {
			t.Errorf("point %d: %.3f,%.3f, file has %.3f,%.3f", i+1, got.North, got.East, pt.North, pt.East)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func mustField(t *testing.T, l *layers.Layer, name string) layers.Field {
	f, ok := l.Field(name)
	if !ok {
		t.Fatalf("no field %s", name)
	}
	return f
}

func decodeJZD(t *testing.T, path string) *jzd.File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := jzd.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRoundTrip exports each layer and imports the file back into the same
// layer (replace mode): the same number of features, the same geometries to
// the coordinate precision of the format and the same attributes.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool := setup(t)
	cases := []struct {
		layer      string
		format     Format
		srid       int
		enc        string
		opts       imports.Options
		tol        float64 // Hausdorff distance in degrees
		fields     []string
		shuangyang bool // only the homesteads in 双阳 (for Gauss-Krüger zone 42)
	}{
		{"villages", GeoJSON, 0, "", imports.Options{}, 1e-8, nil, false},
		{"villages", GeoPackage, 0, "", imports.Options{}, 0, nil, false},
		{"villages", Shapefile, 4530, "GBK", imports.Options{}, 1e-8, nil, false},
		{"villages", CSV, 0, "", imports.Options{CRS: "EPSG:4326"}, 1e-8, nil, false},
		{"homesteads", JZD, 4528, "", imports.Options{Set: []string{"xzqdm=220112203300", "status=已登记"}}, 1e-7, []string{"zddm", "zl"}, false},
		{"homesteads", GeoJSON, 4551, "", imports.Options{}, 1e-8, nil, true},
		{"homesteads", GeoPackage, 4530, "", imports.Options{}, 1e-8, nil, true},
		{"homesteads", Shapefile, 0, "UTF-8", imports.Options{}, 0, nil, false},
		{"homesteads", CSV, 0, "GBK", imports.Options{CRS: "EPSG:4326", Encoding: "GBK"}, 1e-8, nil, false},
		{"homesteads", JZD, 0, "UTF-8", imports.Options{Set: []string{"xzqdm=220112203300", "status=已登记"}}, 1e-7, []string{"zddm", "zl"}, true},
		{"roads", Shapefile, 4326, "UTF-8", imports.Options{}, 0, nil, false},
		{"roads", GeoPackage, 3857, "", imports.Options{}, 1e-8, nil, false},
		{"streetlights", Shapefile, 4326, "", imports.Options{}, 0, nil, false},
		{"streetlights", CSV, 0, "", imports.Options{CRS: "CRS84"}, 1e-8, nil, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%d/%s", c.layer, c.format, c.srid, c.enc), func(t *testing.T) {
			l := layer(t, c.layer)
			restore(t, pool, l)
			q := &features.Query{Layer: l, OutputSRID: c.srid}
			switch {
			case c.shuangyang:
				q.BBox = &features.BBox{MinA1: 125, MinA2: 43, MaxA1: 126, MaxA2: 44}
			case c.format == JZD:
				q.Equals = []features.Equal{{Field: mustField(t, l, "zddm"), Value: "1"}}
			}
			path, res := export(t, pool, c.format, q, Options{Encoding: c.enc})
			if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS snap; CREATE TABLE snap AS SELECT row_number() OVER (ORDER BY id) AS n, * FROM `+l.QualifiedTable()+
				` WHERE id IN (SELECT id FROM `+l.QualifiedTable()+` t`+whereSQLNoArgs(q)+`)`); err != nil {
				t.Fatal(err)
			}
			if c.format == Shapefile {
				path = filepath.Join(unzip(t, path), l.ID+".shp")
			}
			c.opts.Mode = imports.Replace
			c.opts.AllowOutside = true // the fixture mixes places (see setup)
			sum, err := imports.Import(ctx, pool, l, []string{path}, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Loaded != res.Features {
				t.Fatalf("re-imported %d of %d", sum.Loaded, res.Features)
			}
			fields := c.fields
			if fields == nil {
				for _, f := range features.VisibleFields(l, false) {
					fields = append(fields, f.Name)
				}
			}
			var conds []string
			for _, f := range fields {
				conds = append(conds, fmt.Sprintf("a.%[1]s IS DISTINCT FROM b.%[1]s", layers.QuoteIdent(f)))
			}
			var bad, total int
			var maxDist float64
			err = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE `+strings.Join(conds, " OR ")+`), count(*),
				coalesce(max(ST_HausdorffDistance(a.geom, b.geom)), 0)
				FROM snap a JOIN (SELECT row_number() OVER (ORDER BY id) AS n, * FROM `+l.QualifiedTable()+`) b USING (n)`).Scan(&bad, &total, &maxDist)
			if err != nil {
				t.Fatal(err)
			}
			if total != res.Features || bad != 0 || maxDist > c.tol {
				t.Errorf("%d rows compared of %d, %d with different attributes, max Hausdorff distance %g° (tolerance %g°)", total, res.Features, bad, maxDist, c.tol)
			}
		})
	}
}

// restore puts the layer back as setup left it when the test ends.
func restore(t *testing.T, pool *pgxpool.Pool, l *layers.Layer) {
	ctx := context.Background()
	orig := "orig_" + l.ID
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+orig+` AS SELECT * FROM `+l.QualifiedTable()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var cols []string
		for _, f := range l.Fields {
			cols = append(cols, layers.QuoteIdent(f.Name))
		}
		c := strings.Join(append(cols, "geom"), ", ")
		if _, err := pool.Exec(ctx, `DELETE FROM `+l.QualifiedTable()+`; INSERT INTO `+l.QualifiedTable()+` (`+c+`) SELECT `+c+` FROM `+orig+` ORDER BY id`); err != nil {
			t.Error(err)
		}
	})
}

// whereSQLNoArgs inlines the filters the round trip uses.
func whereSQLNoArgs(q *features.Query) string {
	switch {
	case q.BBox != nil:
		return " WHERE t.geom && ST_MakeEnvelope(125, 43, 126, 44, 4490)"
	case len(q.Equals) > 0:
		return " WHERE t.zddm = '1'"
	}
	return ""
}

// TestExportGBKUnrepresentable: a character GBK lacks is an error naming
// the feature and field and saying to use UTF-8.
func TestExportGBKUnrepresentable(t *testing.T) {
	pool := setup(t)
	var buf bytes.Buffer
	_, err := Write(context.Background(), pool, Shapefile, &features.Query{Layer: layer(t, "roads"), OutputSRID: 4326}, Options{Encoding: "GBK"}, &buf)
	if err == nil || !strings.Contains(err.Error(), "Straße") || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), "field lxmc") {
		t.Fatalf("want an error naming the value, field and UTF-8, got %v", err)
	}
	// Every GBK format decides before writing anything, naming the
	// feature, the field and the character, even when the value comes
	// after many rows that fit (an emoji and 𠀀, CJK Extension B, are
	// outside GBK; GB18030 has them).
	ctx := context.Background()
	var last int64
	if err := pool.QueryRow(ctx, `UPDATE villageplan.homesteads SET zl = '大营村😀号' WHERE id = (SELECT max(id) FROM villageplan.homesteads) RETURNING id`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{CSV, Shapefile, JZD} {
		buf.Reset()
		q := &features.Query{Layer: layer(t, "homesteads")}
		_, err := Write(ctx, pool, f, q, Options{Encoding: "GBK"}, &buf)
		var ee *EncodingError
		if !errors.As(err, &ee) || ee.FeatureID != last || ee.Field != "zl" || ee.Char != '😀' || buf.Len() != 0 {
			t.Errorf("%s in GBK with an emoji in feature %d: %v (%d bytes written)", f, last, err, buf.Len())
		}
		if res, err := Write(ctx, pool, f, q, Options{Encoding: "UTF-8"}, &bytes.Buffer{}); err != nil || res.Encoding != "UTF-8" {
			t.Errorf("%s in UTF-8 with an emoji: %v", f, err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE villageplan.homesteads SET zl = '𠀀' WHERE id = $1`, last); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	_, err = Write(ctx, pool, CSV, &features.Query{Layer: layer(t, "homesteads")}, Options{}, &buf)
	if err != nil {
		t.Fatalf("CSV in the default UTF-8: %v", err)
	}
	buf.Reset()
	_, err = Write(ctx, pool, JZD, &features.Query{Layer: layer(t, "homesteads")}, Options{}, &buf)
	if ee := (*EncodingError)(nil); !errors.As(err, &ee) || ee.Char != 0x20000 || buf.Len() != 0 {
		t.Errorf("界址点 TXT (GBK by default) with 𠀀: %v", err)
	}
}

// TestContentTypeCharset: the text formats name the encoding they are
// written in.
func TestContentTypeCharset(t *testing.T) {
	for _, c := range []struct {
		f         Format
		enc, want string
	}{
		{CSV, "", "text/csv; charset=utf-8"}, {CSV, "GBK", "text/csv; charset=GBK"}, {CSV, "cp936", "text/csv; charset=GBK"},
		{JZD, "", "text/plain; charset=GBK"}, {JZD, "UTF-8", "text/plain; charset=utf-8"},
		{GeoJSON, "GBK", "application/geo+json"}, {Shapefile, "GBK", "application/zip"},
	} {
		enc, err := ResolveEncoding(c.f, c.enc)
		if got := c.f.ContentTypeFor(enc); err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.f, c.enc, got, err, c.want)
		}
	}
}
