package httpapi_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"villageplan/layers"
)

// ogr runs a GDAL command-line tool; the test is skipped where GDAL is not
// installed (.ci/run installs gdal-bin, so CI always runs it).
func ogr(t *testing.T, tool string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not installed: apt-get install gdal-bin (make test installs it)", tool)
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = append(cmd.Environ(), "GDAL_HTTP_TIMEOUT=30", "CPL_DEBUG=OFF")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var featureCountRe = regexp.MustCompile(`Feature Count: (\d+)`)

// TestGDALReadsTheFeaturesAPI uses GDAL's OAPIF driver, the client of QGIS
// and ogr2ogr: every collection is listed, counts match the database,
// Chinese text arrives intact, bbox and attribute filters work, and crs
// gives Gauss-Krüger coordinates.
func TestGDALReadsTheFeaturesAPI(t *testing.T) {
	ts, pool := homesteadFixture(t)
	src := "OAPIF:" + ts.URL
	list := ogr(t, "ogrinfo", "-ro", "-q", src)
	for _, l := range layers.Default().Layers() {
		if !strings.Contains(list, l.ID) {
			t.Errorf("ogrinfo does not list collection %s:\n%s", l.ID, list)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.homesteads`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	info := ogr(t, "ogrinfo", "-ro", "-al", src, "homesteads")
	if m := featureCountRe.FindStringSubmatch(info); m == nil || m[1] != strconv.Itoa(n) {
		t.Errorf("GDAL feature count %v, database %d", m, n)
	}
	for _, want := range []string{"大营村1号", "大营村3号", "220112203300", "MULTIPOLYGON"} {
		if !strings.Contains(info, want) {
			t.Errorf("ogrinfo output lacks %q", want)
		}
	}
	if strings.Contains(info, "马1") || strings.Contains(info, "holder_name") {
		t.Error("personal data reached GDAL")
	}
	// Attribute filter: GDAL passes it to the server (CQL2 or queryables).
	filtered := ogr(t, "ogrinfo", "-ro", "-al", "-where", "status = '闲置'", src, "homesteads")
	if m := featureCountRe.FindStringSubmatch(filtered); m == nil || m[1] != "1" || !strings.Contains(filtered, "大营村2号") {
		t.Errorf("-where status = '闲置': %v\n%s", m, filtered)
	}
	// Spatial filter around nothing.
	empty := ogr(t, "ogrinfo", "-ro", "-al", "-so", "-spat", "0", "0", "1", "1", src, "homesteads")
	if m := featureCountRe.FindStringSubmatch(empty); m == nil || m[1] != "0" {
		t.Errorf("-spat 0 0 1 1: %v", m)
	}
	// ogr2ogr into a GeoPackage: same count and text.
	out := t.TempDir() + "/homesteads.gpkg"
	ogr(t, "ogr2ogr", "-f", "GPKG", out, src, "homesteads")
	local := ogr(t, "ogrinfo", "-ro", "-al", out)
	if m := featureCountRe.FindStringSubmatch(local); m == nil || m[1] != strconv.Itoa(n) || !strings.Contains(local, "大营村2号") {
		t.Errorf("ogr2ogr copy: %v", m)
	}
}

// TestDownloadsOpenInGDAL: every download format of the items query opens
// in GDAL with the right count, CRS and Chinese text.
func TestDownloadsOpenInGDAL(t *testing.T) {
	ts, _ := homesteadFixture(t)
	dir := t.TempDir()
	for _, c := range []struct{ f, query, open, epsg string }{
		{"geojson", "", "", "4326"},
		{"gpkg", "", "", "4490"},
		{"shp", "&encoding=GBK", "/vsizip/", "4490"},
		{"shp", "&crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4530"), "/vsizip/", "4530"},
		{"kml", "", "", "4326"},
	} {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f="+c.f+c.query, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("f=%s%s = %d %s", c.f, c.query, resp.StatusCode, b)
			continue
		}
		path := dir + "/dl-" + c.f + strconv.Itoa(len(c.query)) + "." + c.f
		if c.f == "shp" {
			path += ".zip"
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		info := ogr(t, "ogrinfo", "-ro", "-al", c.open+path)
		if m := featureCountRe.FindStringSubmatch(info); m == nil || m[1] != "3" {
			t.Errorf("f=%s%s: GDAL counts %v", c.f, c.query, m)
		}
		if !strings.Contains(info, "大营村2号") {
			t.Errorf("f=%s%s: Chinese text lost", c.f, c.query)
		}
		if !strings.Contains(info, `ID["EPSG",`+c.epsg+`]`) && !strings.Contains(info, `AUTHORITY["EPSG","`+c.epsg+`"]`) {
			t.Errorf("f=%s%s: GDAL does not see EPSG:%s", c.f, c.query, c.epsg)
		}
		if strings.Contains(info, "马1") {
			t.Errorf("f=%s: personal data in a download", c.f)
		}
	}
	if resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f=csv&encoding=latin1", nil); resp.StatusCode != 400 || !strings.Contains(string(b), "encoding") {
		t.Errorf("bad encoding = %d %s", resp.StatusCode, b)
	}
}
