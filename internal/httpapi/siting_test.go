package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"villageplan/data/testdata"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// sitingServer: a village with coverage of every layer, a 村庄集中建设区, a
// permanent-farmland parcel and a 配水管 (y = 800, x 1500…2500), on
// EPSG:4551 around (480000, 4829000).
func sitingServer(t testing.TB) (*httptest.Server, func(string) int) {
	t.Helper()
	return sitingServerWith(t, httpapi.Options{})
}

// sitingServerWith is sitingServer with the given options (Pool is set).
func sitingServerWith(t testing.TB, opts httpapi.Options) (*httptest.Server, func(string) int) {
	t.Helper()
	pool := testpg.New(t)
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	for _, s := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203301', '鲁家村', '集聚提升类', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + env(0, 0, 2000, 600) + `)`,
		`INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom) VALUES ('YJ1', '0103', ` + env(1000, 0, 1100, 100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0702', ` + env(-500, -500, 3000, 1000) + `)`,
		`INSERT INTO villageplan.water_pipelines (name, kind, diameter_mm, geom) VALUES ('鲁家村配水管1', '配水管', 110,
			ST_Multi(ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(481500, 4829800), ST_MakePoint(482500, 4829800)), 4551), 4490)))`,
		`INSERT INTO villageplan.layer_coverage (layer, geom, source) SELECT layer, ` + env(-500, -500, 3000, 1000) + `, 'test' FROM villageplan.layer_version`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	opts.Pool = pool
	// Siting checks are for the desk roles: act as a 乡镇窗口 clerk.
	ts := httptest.NewServer(withBearer(httpapi.New(opts), bearerFor(t, pool, "window", auth.Grant{Role: auth.TownshipWindow})))
	t.Cleanup(ts.Close)
	count := func(table string) int {
		var n int
		_ = pool.QueryRow(context.Background(), "SELECT count(*) FROM villageplan."+table).Scan(&n)
		return n
	}
	return ts, count
}

func post(t *testing.T, u, ctype, body string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Post(u, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func gkSquare(x0, y0, size float64) string {
	x0, y0 = 480000+x0, 4829000+y0
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`,
		x0, y0, x0+size, y0, x0+size, y0+size, x0, y0+size, x0, y0)
}

func TestSitingAPI(t *testing.T) {
	ts, count := sitingServer(t)
	code, res, hdr := post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":`+gkSquare(990, 40, 20)+`,"crs":"EPSG:4551","household_id":"H9","village_code":"220112203301"}`)
	if code != 201 || res["verdict"] != "BLOCK" || hdr.Get("Location") == "" {
		t.Fatalf("POST = %d %v", code, res)
	}
	var farm map[string]any
	for _, r := range res["rules"].([]any) {
		if rr := r.(map[string]any); rr["code"] == "permanent_farmland" {
			farm = rr
		}
	}
	if farm["outcome"] != "BLOCK" || farm["measured"].(float64) != 200 {
		t.Errorf("permanent_farmland = %v", farm)
	}
	site := res["site"].(map[string]any)
	if site["area_m2"].(float64) != 400 || site["measure_epsg"].(float64) != 4551 || site["village_name"] != "鲁家村" {
		t.Errorf("site = %v", site)
	}
	// GET it back, and its printable report.
	resp, err := http.Get(hdr.Get("Location"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET check: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(hdr.Get("Location") + "/report")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"宅基地选址审查报告", "审查结论：禁止", "<svg", "fill=\"#e33\"", "不得占用永久基本农田", "基本农田保护条例", "EPSG:4551", "规则集版本", "暂定", "size: A4", "所依据的数据覆盖范围：", "permanent_farmland：test（"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := os.WriteFile(os.TempDir()+"/villageplan-siting-report.html", b, 0o644); err != nil {
		t.Log(err)
	}

	// A CRS84 site: measured on the zone-42 plane without prefix.
	code, res, _ = post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[125.7502,43.6015],[125.7503,43.6015],[125.7503,43.6016],[125.7502,43.6015]]]}}}`)
	if code != 201 || res["site"].(map[string]any)["measure_epsg"].(float64) != 4551 {
		t.Errorf("CRS84 site = %d %v", code, res)
	}
	stored := count("siting_checks")

	// Rejected requests store nothing.
	for name, c := range map[string]struct {
		ctype, body string
		status      int
		want        string
	}{
		"empty":      {"application/json", "", 400, "empty"},
		"bowtie":     {"application/json", `{"crs":"EPSG:4551","site":{"type":"Polygon","coordinates":[[[480700,4829100],[480720,4829120],[480720,4829100],[480700,4829120],[480700,4829100]]]}}`, 400, "自相交"},
		"point":      {"application/json", `{"site":{"type":"Point","coordinates":[125.75,43.6]}}`, 400, "Polygon"},
		"unknown":    {"application/json", `{"site":` + gkSquare(0, 0, 10) + `,"crs":"EPSG:4551","color":"red"}`, 400, "color"},
		"outside":    {"application/json", `{"site":{"type":"Polygon","coordinates":[[[116.39,39.9],[116.391,39.9],[116.391,39.901],[116.39,39.9]]]}}`, 422, "outside"},
		"bad jzd":    {"text/plain", "[地块坐标]\n4,0.1,1,甲,面,,,,@\nJ1,1,abc,42480000\n", 400, "line"},
		"wrong type": {"image/png", "xx", 415, "text/plain"},
	} {
		code, out, _ := post(t, ts.URL+"/siting/checks", c.ctype, c.body)
		desc := fmt.Sprint(out["description"], " ", out["description_zh"])
		if code != c.status || !strings.Contains(desc, c.want) {
			t.Errorf("%s: %d %v, want %d mentioning %q", name, code, out, c.status, c.want)
		}
	}
	if n := count("siting_checks"); n != stored {
		t.Errorf("rejected requests stored %d checks", n-stored)
	}
}

// TestSitingWaterPipeline: a site straight across a 配水管 is BLOCK at 0 m
// with the pipe, the placeholder range and its note, in the JSON result and
// on the printed report.
func TestSitingWaterPipeline(t *testing.T) {
	ts, _ := sitingServer(t)
	code, res, hdr := post(t, ts.URL+"/siting/checks", "application/json",
		`{"site":`+gkSquare(1995, 795, 10)+`,"crs":"EPSG:4551","household_id":"H9"}`)
	if code != 201 {
		t.Fatalf("POST = %d %v", code, res)
	}
	var pipe map[string]any
	for _, r := range res["rules"].([]any) {
		if rr := r.(map[string]any); rr["code"] == "water_pipeline" {
			pipe = rr
		}
	}
	if pipe == nil || pipe["outcome"] != "BLOCK" || pipe["measured"] != 0.0 || pipe["threshold"] != 2.0 || pipe["unit"] != "m" {
		t.Fatalf("water_pipeline = %v", pipe)
	}
	note, _ := pipe["placeholder_note"].(string)
	if pipe["placeholder"] != true || !strings.Contains(note, "配水管") || res["placeholders"] != true {
		t.Errorf("placeholder not reported: %v", pipe)
	}
	feats, _ := pipe["features"].([]any)
	if len(feats) != 1 || feats[0].(map[string]any)["layer"] != "water_pipelines" ||
		feats[0].(map[string]any)["attrs"].(map[string]any)["name"] != "鲁家村配水管1" {
		t.Errorf("features = %v", pipe["features"])
	}
	if res["verdict"] != "BLOCK" {
		t.Errorf("verdict %v", res["verdict"])
	}
	resp, err := http.Get(hdr.Get("Location") + "/report")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"供水管道安全保护范围内不得修建建筑物", "城市供水条例", "第二十九条", "2.00（暂定）", note,
		"鲁家村配水管1", "DN110", "<title>water_pipelines "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestSitingRealJZDOutsideTownship: the real 杭州 file (zone 40) is refused
// with a clear "outside the township's data" answer, GBK or UTF-8.
func TestSitingRealJZDOutsideTownship(t *testing.T) {
	ts, count := sitingServer(t)
	for _, f := range []string{"hangzhou_pengbu_BR14_zone40.txt", "hangzhou_pengbu_BR14_zone40.gbk_crlf.txt"} {
		raw, err := os.ReadFile(testdata.Real(t, "jzd-txt/"+f))
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := post(t, ts.URL+"/siting/checks?household_id=H1", "text/plain", string(bytes.Clone(raw)))
		if code != 422 || out["code"] != "OutsideData" || !strings.Contains(out["description_zh"].(string), "不在本乡") {
			t.Errorf("%s: %d %v", f, code, out)
		}
	}
	if n := count("siting_checks"); n != 0 {
		t.Errorf("%d checks stored", n)
	}
}
