package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"villageplan/data/testdata"

	"github.com/protomaps/go-pmtiles/pmtiles"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func realFile(t *testing.T, rel string) string {
	t.Helper()
	return testdata.Real(t, rel)
}

// run executes the villageplan command line and returns stdout, stderr.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// TestImportExportCommands drives import and export through the CLI on a
// test database: a 界址点 file into homesteads, a failed import that leaves
// the layer unchanged, a dry run, and exports to GeoPackage and 界址点 txt.
func TestImportExportCommands(t *testing.T) {
	url := testpg.NewDatabase(t)
	db := []string{"--database-url", url}
	jzdFile := realFile(t, "jzd-txt/hangzhou_pengbu_BR14_zone40.gbk_crlf.txt")

	out, _, err := run(t, append(db, "import", "--layer", "homesteads", "--set", "xzqdm=330104", "--set", "status=已登记", jzdFile)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "read 1, loaded 1") || !strings.Contains(out, "EPSG:4528") || !strings.Contains(out, "text GBK") {
		t.Errorf("summary:\n%s", out)
	}

	// Invalid districts without --repair: error naming them, layer unchanged.
	_, _, err = run(t, append(db, "import", "--layer", "villages", "--from-gcj02", "--map", "adcode=xzqdm", "--map", "name=xzqmc",
		"--set", "czlx=暂不分类", realFile(t, "changchun_220100_districts_datav.geojson"))...)
	if err == nil || !strings.Contains(err.Error(), "榆树市") || !strings.Contains(err.Error(), "德惠市") || !strings.Contains(err.Error(), "--repair") {
		t.Fatalf("want failure naming 榆树市 and 德惠市, got %v", err)
	}
	out, _, err = run(t, append(db, "import", "--layer", "villages", "--dry-run", "--repair", "--from-gcj02", "--map", "adcode=xzqdm", "--map", "name=xzqmc",
		"--set", "czlx=暂不分类", realFile(t, "changchun_220100_districts_datav.geojson"))...)
	if err != nil || !strings.Contains(out, "would load (dry run, rolled back) 11, repaired 2") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var villages int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.villages`).Scan(&villages); err != nil || villages != 0 {
		t.Fatalf("villages after failed and dry-run imports: %d %v", villages, err)
	}

	dir := t.TempDir()
	gpkg := filepath.Join(dir, "宅基地.gpkg")
	_, msg, err := run(t, append(db, "export", "--layer", "homesteads", "--format", "gpkg", "--crs", "EPSG:4528", "-o", gpkg)...)
	if err != nil {
		t.Fatalf("export gpkg: %v", err)
	}
	if !strings.Contains(msg, "wrote 1 feature(s)") || !strings.Contains(msg, "personal-data fields left out: household_id, holder_name, holder_id_number") {
		t.Errorf("export message: %s", msg)
	}
	txt := filepath.Join(dir, "宗地.txt")
	if _, _, err := run(t, append(db, "export", "--layer", "homesteads", "--format", "jzd", "--where", "zddm=1", "-o", txt)...); err != nil {
		t.Fatalf("export jzd: %v", err)
	}
	b, _ := os.ReadFile(txt)
	if !bytes.Contains(b, []byte("=40\r\n")) /* 带号=40, GBK */ || !bytes.Contains(b, []byte("66,5.70")) {
		t.Errorf("界址点 file:\n%.400s", b)
	}
	// The parcel's tiles as a PMTiles archive: at least one tile with data
	// per zoom of the tileset's default range (more where the parcel
	// straddles a tile edge), a valid v3 header.
	pmt := filepath.Join(dir, "宅基地.pmtiles")
	if _, msg, err := run(t, append(db, "export", "--layer", "homesteads", "--format", "pmtiles", "-o", pmt)...); err != nil {
		t.Fatalf("export pmtiles: %v", err)
	} else if !strings.Contains(msg, "wrote "+pmt+": tileset homesteads") {
		t.Errorf("export pmtiles message: %s", msg)
	}
	b, err = os.ReadFile(pmt)
	if err != nil {
		t.Fatal(err)
	}
	h, err := pmtiles.DeserializeHeader(b[:pmtiles.HeaderV3LenBytes])
	if err != nil {
		t.Fatal(err)
	}
	if h.TileType != pmtiles.Mvt || h.TileCompression != pmtiles.Gzip || h.MaxZoom < h.MinZoom ||
		h.AddressedTilesCount < uint64(h.MaxZoom-h.MinZoom+1) || uint64(len(b)) != h.TileDataOffset+h.TileDataLength {
		t.Errorf("pmtiles header %+v (file %d bytes)", h, len(b))
	}
	if _, _, err := run(t, append(db, "export", "--layer", "nope", "--format", "pmtiles", "-o", filepath.Join(dir, "x.pmtiles"))...); err == nil || !strings.Contains(err.Error(), "map") {
		t.Errorf("unknown tileset: %v", err)
	}
	// And back: the GeoPackage replaces the layer with the same parcel.
	out, _, err = run(t, append(db, "import", "--layer", "homesteads", "--mode", "replace", gpkg)...)
	if err != nil || !strings.Contains(out, "loaded 1") || !strings.Contains(out, "deleted 1") || !strings.Contains(out, "EPSG:4528") {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	// Unknown layer and format are refused with the choices.
	if _, _, err := run(t, append(db, "export", "--layer", "nope", "--format", "shp", "-o", filepath.Join(dir, "x.zip"))...); err == nil || !strings.Contains(err.Error(), "homesteads") {
		t.Errorf("unknown layer: %v", err)
	}
}

// TestImportJSONCountsRejectedFeatures: the --json summary of a failed
// import counts rejected features once each (feature #1 has a bad code and
// a self-intersection, #2 a 4-digit XZQDM), the error is bilingual and has
// no raw SQLSTATE; --mode upsert is accepted on a keyed layer.
func TestImportJSONCountsRejectedFeatures(t *testing.T) {
	url := testpg.NewDatabase(t)
	db := []string{"--database-url", url}
	path := filepath.Join(t.TempDir(), "dltb.geojson")
	if err := os.WriteFile(path, []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"DLBM":"9999"},"geometry":{"type":"Polygon","coordinates":[[[125.6,43.5],[125.601,43.501],[125.601,43.5],[125.6,43.501],[125.6,43.5]]]}},
{"type":"Feature","properties":{"DLBM":"0103","XZQDM":"2201"},"geometry":{"type":"Polygon","coordinates":[[[125.61,43.5],[125.611,43.5],[125.611,43.501],[125.61,43.5]]]}},
{"type":"Feature","properties":{"DLBM":"0103"},"geometry":{"type":"Polygon","coordinates":[[[125.62,43.5],[125.621,43.5],[125.621,43.501],[125.62,43.5]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, append(db, "import", "--layer", "land_use", "--json", path)...)
	if err == nil || strings.Contains(err.Error(), "SQLSTATE") || !strings.Contains(err.Error(), "几何图形无效") || !strings.Contains(err.Error(), "exactly 12 digits") {
		t.Fatalf("import error: %v", err)
	}
	var sum struct{ Read, Loaded, Rejected int }
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if sum.Read != 3 || sum.Loaded != 0 || sum.Rejected != 2 {
		t.Errorf("--json summary %+v, want read 3, loaded 0, rejected 2", sum)
	}
	out, _, err = run(t, append(db, "import", "--layer", "land_use", "--mode", "upsert", path)...)
	if err == nil || !strings.Contains(err.Error(), "has no key field") {
		t.Errorf("upsert into land_use: %v %s", err, out)
	}
}
