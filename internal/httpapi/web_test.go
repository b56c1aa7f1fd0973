package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// webFixture: two villages on EPSG:4551 around (480000, 4829000) with a
// 村庄集中建设区, a road through it with a working light, every layer
// covered.
func webFixture(t *testing.T) (*httptest.Server, func(string) int) {
	t.Helper()
	pool := testpg.New(t)
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203301', '鲁家村', '特色保护类', ` + env(-1000, -1000, 1000, 1000) + `)`,
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203302', '庞家村', '集聚提升类', ` + env(1000, -1000, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(-200, -100, 200, 100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0702', ` + env(-1000, -1000, 3000, 1000) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, geom) VALUES ('C101', '村道', ST_Multi(ST_Transform(ST_MakeLine(ST_SetSRID(ST_MakePoint(479600, 4829050), 4551), ST_SetSRID(ST_MakePoint(480400, 4829050), 4551)), 4490)))`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L1', '正常', ST_Transform(ST_SetSRID(ST_MakePoint(480000, 4829055), 4551), 4490))`,
		`INSERT INTO villageplan.layer_coverage (layer, geom, source) SELECT layer, ` + env(-1000, -1000, 3000, 1000) + `, 'test' FROM villageplan.layer_version`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	t.Cleanup(ts.Close)
	count := func(table string) int {
		var n int
		_ = pool.QueryRow(context.Background(), "SELECT count(*) FROM villageplan."+table).Scan(&n)
		return n
	}
	return ts, count
}

func webDo(t *testing.T, method, u, ctype, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	// Do not follow redirects: the tests look at them.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The pages and their files need no database.
func TestWebPagesWithoutDatabase(t *testing.T) {
	ts := httptest.NewServer(httpapi.New(httpapi.Options{}))
	defer ts.Close()
	for path, want := range map[string]string{
		"/map":  `src="web/js/map.js"`,
		"/desk": `src="web/js/desk.js"`,
	} {
		resp, b := webDo(t, "GET", ts.URL+path, "", "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for path, loc := range map[string]string{"/map/": "../map", "/desk/": "../desk"} {
		if resp, _ := webDo(t, "GET", ts.URL+path, "", ""); resp.StatusCode != 301 || resp.Header.Get("Location") != loc {
			t.Errorf("GET %s = %d Location %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, b := webDo(t, "GET", ts.URL+"/web/vendor/maplibre-gl/maplibre-gl.mjs", "", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(b) < 500_000 {
		t.Errorf("MapLibre = %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	if resp, _ := webDo(t, "GET", ts.URL+"/web/vendor/maplibre-gl/LICENSE.txt", "", ""); resp.StatusCode != 200 {
		t.Errorf("MapLibre licence = %d", resp.StatusCode)
	}
	if resp, b := webDo(t, "GET", ts.URL+"/web/nope.js", "", ""); resp.StatusCode != 404 || !strings.Contains(string(b), `"code":"NotFound"`) {
		t.Errorf("missing file = %d %s", resp.StatusCode, b)
	}
	if resp, _ := webDo(t, "POST", ts.URL+"/web/js/map.js", "", ""); resp.StatusCode != 405 {
		t.Errorf("POST static = %d", resp.StatusCode)
	}
	if resp, _ := webDo(t, "GET", ts.URL+"/favicon.ico", "", ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, b = webDo(t, "GET", ts.URL+"/map/meta.json", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"groups"`) {
		t.Errorf("meta without database = %d %s", resp.StatusCode, b)
	}
	for _, p := range []string{"/map/villages?q=x", "/map/views/streetlight-coverage.geojson"} {
		if resp, _ := webDo(t, "GET", ts.URL+p, "", ""); resp.StatusCode != 503 {
			t.Errorf("GET %s without database = %d, want 503", p, resp.StatusCode)
		}
	}
}

func TestWebMeta(t *testing.T) {
	ts, _ := webFixture(t)
	resp, b := webDo(t, "GET", ts.URL+"/map/meta.json", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("meta = %d %s", resp.StatusCode, b)
	}
	var m struct {
		Groups []struct {
			ID     string
			Layers []struct {
				ID     string
				Fields []struct{ Name string }
			}
		}
		Views []struct {
			ID, Focus, Overlay string
			Layers             []string
		}
		Sample bool
		Extent *[4]float64
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	cat := layers.Default()
	n := 0
	for _, g := range m.Groups {
		for _, l := range g.Layers {
			n++
			cl, ok := cat.Layer(l.ID)
			if !ok {
				t.Fatalf("unknown layer %s", l.ID)
			}
			for _, f := range l.Fields {
				if cf, _ := cl.Field(f.Name); cf.Personal {
					t.Errorf("meta exposes personal field %s.%s", l.ID, f.Name)
				}
			}
		}
	}
	// 4 views: village classes, road grades, hazard grades, streetlight coverage; 5th: the assessment choropleth (signed-in).
	if n != len(cat.Layers()) || len(m.Views) != 5 || m.Sample || m.Extent == nil {
		t.Errorf("meta: %d layers, %d views, sample %v, extent %v", n, len(m.Views), m.Sample, m.Extent)
	}
	if e := *m.Extent; math.Abs(e[0]-125.74) > 0.02 || e[2] <= e[0] || e[3] <= e[1] {
		t.Errorf("extent %v", e)
	}
	if strings.Contains(string(b), "holder_") || strings.Contains(string(b), "household_id") {
		t.Errorf("meta names personal fields")
	}
}

func TestWebVillagesAndCoverage(t *testing.T) {
	ts, _ := webFixture(t)
	resp, b := webDo(t, "GET", ts.URL+"/map/villages?q="+"%E9%B2%81%E5%AE%B6", "", "") // 鲁家
	var vs struct {
		Villages []struct {
			Code, Name string
			BBox       [4]float64
		}
	}
	if err := json.Unmarshal(b, &vs); err != nil || resp.StatusCode != 200 || len(vs.Villages) != 1 || vs.Villages[0].Code != "220112203301" {
		t.Fatalf("search = %d %s", resp.StatusCode, b)
	}
	if _, b := webDo(t, "GET", ts.URL+"/map/villages?q=2201", "", ""); !strings.Contains(string(b), "庞家村") {
		t.Errorf("search by code: %s", b)
	}
	if resp, _ := webDo(t, "GET", ts.URL+"/map/villages?limit=0", "", ""); resp.StatusCode != 400 {
		t.Errorf("limit=0 = %d", resp.StatusCode)
	}
	resp, b = webDo(t, "GET", ts.URL+"/map/views/streetlight-coverage.geojson", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" || resp.Header.Get("ETag") == "" {
		t.Fatalf("coverage = %d %v", resp.StatusCode, resp.Header)
	}
	var fc struct {
		Type    string
		Summary map[string]any
	}
	if err := json.Unmarshal(b, &fc); err != nil || fc.Type != "FeatureCollection" || fc.Summary["total_m"].(float64) < 399 {
		t.Errorf("coverage %s", b)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/map/views/streetlight-coverage.geojson", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r2, err := http.DefaultClient.Do(req); err != nil || r2.StatusCode != 304 {
		t.Errorf("If-None-Match: %v %v", r2, err)
	}
}

func TestDeskPreview(t *testing.T) {
	ts, count := webFixture(t)
	sq := func(x0, y0, size float64) string {
		x0, y0 = 480000+x0, 4829000+y0
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`,
			x0, y0, x0+size, y0, x0+size, y0+size, x0, y0+size, x0, y0)
	}
	resp, b := webDo(t, "POST", ts.URL+"/desk/preview", "application/json", `{"site":`+sq(10, 10, 20)+`,"crs":"EPSG:4551"}`)
	var out struct {
		Sites []struct {
			Site struct {
				AreaM2      float64 `json:"area_m2"`
				MeasureEPSG int     `json:"measure_epsg"`
				VillageName string  `json:"village_name"`
				Neighbors   map[string]string
			}
			Geometry struct {
				Type        string
				Coordinates json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 || len(out.Sites) != 1 {
		t.Fatalf("preview = %d %s", resp.StatusCode, b)
	}
	s := out.Sites[0]
	if s.Site.AreaM2 != 400 || s.Site.MeasureEPSG != 4551 || s.Site.VillageName != "鲁家村" || s.Geometry.Type != "MultiPolygon" {
		t.Errorf("preview %s", b)
	}
	if !strings.Contains(string(s.Geometry.Coordinates), "125.7") {
		t.Errorf("preview geometry is not in lon/lat: %s", s.Geometry.Coordinates)
	}
	// A 界址点 file with two parcels, as text.
	jzd := "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=42\n[地块坐标]\n" +
		"5,0.04,1,甲,面,,,,@\nJ1,1,4829010.000,480010.000\nJ2,1,4829010.000,480030.000\nJ3,1,4829030.000,480030.000\nJ4,1,4829030.000,480010.000\nJ1,1,4829010.000,480010.000\n" +
		"5,0.01,2,乙,面,,,,@\nJ1,1,4829050.000,480050.000\nJ2,1,4829050.000,480060.000\nJ3,1,4829060.000,480060.000\nJ4,1,4829060.000,480050.000\nJ1,1,4829050.000,480050.000\n"
	resp, b = webDo(t, "POST", ts.URL+"/desk/preview", "text/plain; charset=utf-8", jzd)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"area_m2":400`) || !strings.Contains(string(b), `"area_m2":100`) {
		t.Errorf("jzd preview = %d %s", resp.StatusCode, b)
	}
	resp, b = webDo(t, "POST", ts.URL+"/desk/preview", "text/plain", "[地块坐标]\n5,1,1,a,面,,,,@\nJ1,1,4828000,42512000\nJ2,1,4828000,abc\n")
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"line":4`) || !strings.Contains(string(b), "description_zh") {
		t.Errorf("bad file = %d %s", resp.StatusCode, b)
	}
	resp, b = webDo(t, "POST", ts.URL+"/desk/preview", "application/json", `{"site":`+sq(50000, 0, 20)+`,"crs":"EPSG:4551"}`)
	if resp.StatusCode != 422 || !strings.Contains(string(b), "OutsideData") {
		t.Errorf("outside = %d %s", resp.StatusCode, b)
	}
	if resp, _ := webDo(t, "POST", ts.URL+"/desk/preview", "image/png", "x"); resp.StatusCode != 415 {
		t.Errorf("image/png = %d", resp.StatusCode)
	}
	if n := count("siting_checks"); n != 0 {
		t.Errorf("preview stored %d checks", n)
	}
}
