package imports

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"villageplan/internal/testpg"
)

// gdal runs a GDAL command-line tool (ogr2ogr, ogrinfo) and fails the test
// when GDAL is missing: these tests are about files other tools write, so
// they must not pass without the other tool.
func gdal(t *testing.T, tool string, args ...string) string {
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
