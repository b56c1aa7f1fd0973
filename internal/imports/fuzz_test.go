package imports

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"villageplan/data/testdata"
)

// The fuzz targets of the import readers: each writes the fuzzed bytes to
// files in t.TempDir() and reads them through openSource, the function
// the importer opens every file with, to the end. A reader must not panic,
// must not hang (readAllBounded fails after fuzzReadLimit), must return
// every problem as an error value with a message, and must advance (no
// more features than bytes). Their seeds (f.Add from the real files of
// data/testdata/real and small hand-made files) run with every `go test`;
// `make fuzz` explores.

// fuzzReadLimit is how long one fuzzed file may take to read.
const fuzzReadLimit = 10 * time.Second

// Faults of a reader itself, as opposed to the file's problems.
var (
	errNeither    = errors.New("Next returned neither a feature nor an error")
	errNoProgress = errors.New("the reader returns more features than the file has bytes: it does not advance")
)

// readAllBounded opens path as the importer does and reads every feature,
// failing the test on a hang or a reader that does not advance.
func readAllBounded(t *testing.T, path string, ro readerOptions, size int) {
	t.Helper()
	type outcome struct {
		features int
		err      error
	}
	done := make(chan outcome, 1)
	go func() {
		src, err := openSource(path, ro)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		defer src.Close()
		n := 0
		for {
			f, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				done <- outcome{features: n, err: err}
				return
			}
			if f == nil {
				done <- outcome{features: n, err: errNeither}
				return
			}
			n++
			if n > size+16 {
				done <- outcome{features: n, err: errNoProgress}
				return
			}
			// What the loader asks of every feature.
			if f.Geom != nil {
				_ = structureProblem(f.Geom)
			}
			if f.WKB != nil {
				_, _, _, _ = wkbType(f.WKB)
			}
			_ = label(f)
		}
		_ = src.Info()
		_, _ = src.BytesRead(), src.Size()
		done <- outcome{features: n}
	}()
	select {
	case o := <-done:
		if o.err != nil && o.err.Error() == "" {
			t.Fatalf("%s: an error without a message after %d feature(s)", filepath.Base(path), o.features)
		}
		if errors.Is(o.err, errNeither) || errors.Is(o.err, errNoProgress) {
			t.Fatalf("%s: %v", filepath.Base(path), o.err)
		}
	case <-time.After(fuzzReadLimit):
		t.Fatalf("%s: reading %d bytes took longer than %s", filepath.Base(path), size, fuzzReadLimit)
	}
}

func fuzzFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readReal(f *testing.F, rel string) []byte {
	b, err := os.ReadFile(testdata.Real(f, rel))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzReadGeoJSON(f *testing.F) {
	for _, rel := range []string{
		"shuangyang_220112_datav.json", // the bare-array DataV form
		"geojson-fixtures/feature/one.geojson", "geojson-fixtures/featurecollection/one.geojson",
		"geojson-fixtures/geometry/polygon.geojson", "geojson-fixtures/geometry/multipolygon-xyz.geojson",
		"geojson-fixtures/geometry/geometrycollection.geojson", "geojson-fixtures/geometry/point.geojson",
	} {
		f.Add(readReal(f, rel), false)
	}
	for _, s := range []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"zl":"大营村1号"},"geometry":{"type":"Polygon","coordinates":[[[125.7,43.6],[125.8,43.6],[125.8,43.7],[125.7,43.6]]]}}],"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}}}`,
		`[{"type":"Feature","properties":null,"geometry":null}]`, `[]`, `[1]`, `{}`, `null`, `{"type":"FeatureCollection","features":{}}`,
		`{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[]}]}]}`,
		`{"type":"Polygon","coordinates":[[[1e400,0],[0,0]]]}`, `{"type":"Point","coordinates":[]}`, `{"type":"Point","coordinates":[1,2,3,4,5]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[]]}}]}`,
		`{"crs":{"type":"EPSG","properties":{"code":4530}},"type":"FeatureCollection","features":[]}`,
		"\xef\xbb\xbf{\"type\":\"FeatureCollection\",\"features\":[]}", `{"type":"FeatureCollection","features":[`, `[[[[[[[[[[[[[[[[`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, asJSON bool) {
		name := "in.geojson"
		if asJSON {
			name = "in.json"
		}
		readAllBounded(t, fuzzFile(t, t.TempDir(), name, b), readerOptions{}, len(b))
	})
}

// shpPolygonSeed builds a one-record polygon shapefile (.shp, .shx, .dbf with
// one C and one N field) around the given ring: the smallest well-formed
// triplet, a seed that mutations can reach every branch from.
func shpPolygonSeed(ring [][2]float64, text string) (shp, shx, dbf []byte) {
	le, be := binary.LittleEndian, binary.BigEndian
	content := make([]byte, 44+4+16*len(ring))
	le.PutUint32(content[0:], shpPolygon)
	le.PutUint32(content[36:], 1)
	le.PutUint32(content[40:], uint32(len(ring)))
	for i, p := range ring {
		le.PutUint64(content[48+16*i:], math.Float64bits(p[0]))
		le.PutUint64(content[56+16*i:], math.Float64bits(p[1]))
	}
	hdr := func(length int) []byte {
		h := make([]byte, 100)
		be.PutUint32(h[0:], 9994)
		be.PutUint32(h[24:], uint32(length/2))
		le.PutUint32(h[28:], 1000)
		le.PutUint32(h[32:], shpPolygon)
		return h
	}
	shp = hdr(100 + 8 + len(content))
	rec := make([]byte, 8)
	be.PutUint32(rec[0:], 1)
	be.PutUint32(rec[4:], uint32(len(content)/2))
	shp = append(append(shp, rec...), content...)
	shx = hdr(108)
	idx := make([]byte, 8)
	be.PutUint32(idx[0:], 50)
	be.PutUint32(idx[4:], uint32(len(content)/2))
	shx = append(shx, idx...)

	field := func(name string, typ byte, size, dec int) []byte {
		d := make([]byte, 32)
		copy(d, name)
		d[11], d[16], d[17] = typ, byte(size), byte(dec)
		return d
	}
	fields := append(field("ZL", 'C', 20, 0), field("ZDMJ", 'N', 12, 2)...)
	recLen := 1 + 20 + 12
	dbf = make([]byte, 32)
	dbf[0] = 3
	le.PutUint32(dbf[4:], 1)
	le.PutUint16(dbf[8:], uint16(32+len(fields)+1))
	le.PutUint16(dbf[10:], uint16(recLen))
	dbf[29] = 0x4D // CP936
	dbf = append(append(dbf, fields...), 0x0D)
	row := make([]byte, recLen)
	copy(row, " ")
	copy(row[1:21], append([]byte(text), bytes.Repeat([]byte(" "), 20)...))
	copy(row[21:], "      123.45")
	dbf = append(append(dbf, row...), 0x1A)
	return shp, shx, dbf
}

const cgcs2000PRJ = `GEOGCS["China Geodetic Coordinate System 2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`

func FuzzReadShapefile(f *testing.F) {
	square := [][2]float64{{125.7, 43.6}, {125.7, 43.7}, {125.8, 43.7}, {125.8, 43.6}, {125.7, 43.6}}
	shp, shx, dbf := shpPolygonSeed(square, "\xb4\xf3\xd3\xaa\xb4\xe5") // 大营村 in GBK
	f.Add(shp, shx, dbf, []byte(cgcs2000PRJ), false)
	f.Add(shp, shx, dbf, []byte(""), true)
	shp2, shx2, dbf2 := shpPolygonSeed(square[:3], "x")
	f.Add(shp2, shx2, dbf2, []byte("PROJCS[\"x\""), false)
	f.Add(readReal(f, "shp/china_res2_4m_prefecture_points_gbk.shp"), readReal(f, "shp/china_res2_4m_prefecture_points_gbk.shx"),
		readReal(f, "shp/china_res2_4m_prefecture_points_gbk.dbf"), []byte(cgcs2000PRJ), false)
	f.Add(shp[:100], shx[:100], dbf[:32], []byte{}, false)
	f.Fuzz(func(t *testing.T, shp, shx, dbf, prj []byte, upper bool) {
		dir := t.TempDir()
		ext := func(e string) string {
			if upper {
				return "DLTB." + string(bytes.ToUpper([]byte(e)))
			}
			return "dltb." + e
		}
		p := fuzzFile(t, dir, ext("shp"), shp)
		fuzzFile(t, dir, ext("shx"), shx)
		fuzzFile(t, dir, ext("dbf"), dbf)
		if len(prj) > 0 {
			fuzzFile(t, dir, ext("prj"), prj)
		}
		readAllBounded(t, p, readerOptions{}, len(shp)+len(dbf))
	})
}

// zipOf packs name → bytes into a zip archive.
func zipOf(f *testing.F, members ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(members); i += 2 {
		w, err := zw.Create(members[i])
		if err != nil {
			f.Fatal(err)
		}
		if _, err := w.Write([]byte(members[i+1])); err != nil {
			f.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

func FuzzReadZippedShapefile(f *testing.F) {
	square := [][2]float64{{125.7, 43.6}, {125.7, 43.7}, {125.8, 43.7}, {125.8, 43.6}, {125.7, 43.6}}
	shp, shx, dbf := shpPolygonSeed(square, "daying")
	f.Add(zipOf(f, "宅基地/ZJD.SHP", string(shp), "宅基地/ZJD.SHX", string(shx), "宅基地/ZJD.DBF", string(dbf), "宅基地/ZJD.prj", cgcs2000PRJ, "宅基地/ZJD.cpg", "GBK"), "")
	f.Add(zipOf(f, "a.shp", string(shp), "a.dbf", string(dbf), "b/a.shp", string(shp), "b/a.dbf", string(dbf)), "b/a")
	f.Add(zipOf(f, "../a.shp", string(shp), "a.dbf", string(dbf)), "")
	f.Add(zipOf(f, "readme.txt", "no shapefile"), "")
	pts := []string{"shp", "shx", "dbf"}
	var ms []string
	for _, e := range pts {
		ms = append(ms, "p."+e, string(readReal(f, "shp/china_res2_4m_prefecture_points_gbk."+e)))
	}
	f.Add(zipOf(f, ms...), "")
	f.Add([]byte("PK\x03\x04"), "")
	f.Fuzz(func(t *testing.T, z []byte, layer string) {
		readAllBounded(t, fuzzFile(t, t.TempDir(), "in.zip", z), readerOptions{sourceLayer: layer}, len(z))
	})
}

func FuzzReadJZD(f *testing.F) {
	f.Add(readReal(f, "jzd-txt/hangzhou_pengbu_BR14_zone40.txt"))
	f.Add(readReal(f, "jzd-txt/hangzhou_pengbu_BR14_zone40.gbk_crlf.txt"))
	for _, s := range []string{
		"[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=42\n[地块坐标]\n1,0.0100,1,大营村1号,面,,,,@\nJ1,1,4829000.000,42480600.000\nJ2,1,4829000.000,42480610.000\nJ3,1,4829010.000,42480610.000\nJ1,1,4829000.000,42480600.000\n",
		"[地块坐标]\n", "", "[属性描述]\n带号=99\n[地块坐标]\n1,1,1,a,面,,,,@\nJ1,1,NaN,Inf\n",
		"[属性描述]\n带号=42\n[地块坐标]\n1,1,1,a,面,,,,@\nJ1,2,4829000,42480600\nJ2,1,4829000,42480600\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		readAllBounded(t, fuzzFile(t, t.TempDir(), "jzd.txt", b), readerOptions{}, len(b))
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add(readReal(f, "jzd-txt/htoooth_TEST1_idxy_northing_first.csv"), "", "", "")
	f.Add(readReal(f, "shuangyang_220112_townships_2023.csv"), "", "code", "name")
	for _, s := range []string{
		"wkt,zl\n\"POLYGON((125.7 43.6,125.8 43.6,125.8 43.7,125.7 43.6))\",大营村1号\n",
		"x;y;name\n125.7;43.6;a\n1e400;NaN;b\n", "lon\tlat\n125\t43\n", "几何,名称\nPOINT EMPTY,a\nGEOMETRYCOLLECTION(POINT(1 2),POINT Z(1 2 3)),b\n",
		"\xef\xbb\xbfwkt\nMULTIPOINT((1 2),(3 4))\n", "wkt\n\"POLYGON((\n", "\"", "",
		"easting,northing\n42480600,4829000\n",
	} {
		f.Add([]byte(s), "", "", "")
	}
	f.Add([]byte("geom,x\nPOINT(1 2),3\n"), "geom", "", "")
	f.Fuzz(func(t *testing.T, b []byte, wkt, x, y string) {
		readAllBounded(t, fuzzFile(t, t.TempDir(), "in.csv", b), readerOptions{csvWKT: wkt, csvX: x, csvY: y}, len(b))
	})
}

// FuzzGeoPackageWKB fuzzes the GeoPackage geometry blob parser and the WKB
// header reader that the loader applies to every GeoPackage and CSV
// geometry (fuzzing whole SQLite files would mostly fuzz SQLite).
func FuzzGeoPackageWKB(f *testing.F) {
	point := []byte{'G', 'P', 0, 1, 0xAA, 0x10, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x40}
	f.Add(point)
	f.Add([]byte{'G', 'P', 0, 0x13, 0, 0, 0, 0}) // empty flag, envelope 1
	f.Add([]byte{'G', 'P', 0, 0x0F, 0, 0, 0, 0})
	f.Add([]byte{1, 4, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{0, 0x20, 0, 0, 7, 0, 0, 0x11, 0xBA, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, empty, err := gpkgWKB(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if !empty {
			_, _, _, _ = wkbType(w)
		}
	})
}
