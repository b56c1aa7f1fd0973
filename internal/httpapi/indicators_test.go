package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/indicators/indicatorstest"
	"villageplan/internal/testpg"
)

type indicatorClient struct {
	t      *testing.T
	ts     *httptest.Server
	tokens map[string]string
}

func (c indicatorClient) do(who, method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := c.tokens[who]; tok != "" {
		req.Header.Set("Authorization", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

type indicatorReport struct {
	Values []struct {
		Key, Village, Hamlet          string
		Numerator, Denominator, Value float64
	}
	Skipped     map[string]string
	Cached      bool
	Definitions []struct {
		Key, Unit string
		FormulaZH string `json:"formula_zh"`
	}
}

func (r indicatorReport) get(key, village, hamlet string) (float64, float64, float64, bool) {
	for _, v := range r.Values {
		if v.Key == key && v.Village == village && v.Hamlet == hamlet {
			return v.Numerator, v.Denominator, v.Value, true
		}
	}
	return 0, 0, 0, false
}

// TestIndicatorsHTTP: the report over HTTP as JSON and .xlsx (opened with
// excelize), one village, the unlit segments and the exposed households
// as GeoJSON without personal fields, the administrator's targets, the
// roles, and bad input as 4xx naming the field.
func TestIndicatorsHTTP(t *testing.T) {
	pool := testpg.New(t)
	indicatorstest.Load(t, pool)
	tokens := map[string]string{
		"planner": bearerFor(t, pool, "u-planner", auth.Grant{Role: auth.PlanningEditor}),
		"analyst": bearerFor(t, pool, "u-analyst", auth.Grant{Role: auth.DataAnalyst}),
		"admin":   bearerFor(t, pool, "u-admin", auth.Grant{Role: auth.Admin}),
		"clerk":   bearerFor(t, pool, "u-clerk", auth.Grant{Role: auth.VillageClerk, Village: indicatorstest.VillageA}),
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Accounts: testAccounts(pool)})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	c := indicatorClient{t, ts, tokens}
	A, B := indicatorstest.VillageA, indicatorstest.VillageB

	// Roles: anonymous 401, a village clerk 403, planners and analysts 200.
	if code, _, _ := c.do("", "GET", "/indicators", nil); code != 401 {
		t.Errorf("anonymous /indicators = %d, want 401", code)
	}
	if code, _, _ := c.do("clerk", "GET", "/indicators", nil); code != 403 {
		t.Errorf("clerk /indicators = %d, want 403", code)
	}
	code, _, b := c.do("planner", "GET", "/indicators", nil)
	var h http.Header
	if code != 200 {
		t.Fatalf("/indicators = %d %s", code, b)
	}
	var rep indicatorReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		key, village    string
		num, den, value float64
	}{
		{"road_lit_share", B, 80, 120, 66.67},
		{"road_lit_share", "", 80, 120, 66.67},
		{"hazard_exposed_households", A, 1, 5, 1},
		{"homestead_approvals", A, 2, 0, 2},
		{"dead_ends", A, 3, 0, 3},
	} {
		n, d, v, ok := rep.get(w.key, w.village, "")
		if !ok || math.Abs(n-w.num) > 0.05 || math.Abs(d-w.den) > 0.05 || math.Abs(v-w.value) > 0.005 {
			t.Errorf("%s %q = %g/%g = %g (%v), want %g/%g = %g", w.key, w.village, n, d, v, ok, w.num, w.den, w.value)
		}
	}
	if len(rep.Definitions) == 0 || rep.Definitions[0].FormulaZH == "" {
		t.Errorf("definitions missing from the report: %+v", rep.Definitions)
	}

	// One village: only its values.
	code, _, b = c.do("analyst", "GET", "/indicators?village="+B, nil)
	var one indicatorReport
	if code != 200 || json.Unmarshal(b, &one) != nil {
		t.Fatalf("village report = %d %s", code, b)
	}
	for _, v := range one.Values {
		if v.Village != B {
			t.Fatalf("village report has a value of %q", v.Village)
		}
	}
	if !one.Cached {
		t.Error("village report not served from the cache of the township report")
	}

	// .xlsx
	code, h, b = c.do("planner", "GET", "/indicators?f=xlsx", nil)
	if code != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheetml") || !strings.Contains(h.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("xlsx = %d %v", code, h)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("指标")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) >= 9 && r[0] == "road_lit_share" && r[3] == B {
			found = r[4] == "庞家村" && r[6] == "80" && r[7] == "120" && r[8] == "66.67"
			if !found {
				t.Errorf("xlsx row %q", r)
			}
		}
	}
	if !found {
		t.Error("xlsx has no road_lit_share row of village B")
	}
	if defs, _ := f.GetRows("定义"); len(defs) < 2 || defs[0][0] != "指标键 key" {
		t.Errorf("sheet 定义: %q", defs)
	}
	f.Close()

	// Features: the unlit segment of B (40 m), the exposed household by
	// its parcel code and never the holder's name.
	code, h, b = c.do("planner", "GET", "/indicators/road_lit_share/features?village="+B, nil)
	var fc struct {
		Type     string
		Features []struct {
			Properties map[string]any
			Geometry   struct{ Type string }
		}
	}
	if code != 200 || h.Get("Content-Type") != "application/geo+json" || json.Unmarshal(b, &fc) != nil {
		t.Fatalf("unlit features = %d %s", code, b)
	}
	if len(fc.Features) != 1 || fc.Features[0].Properties["length_m"] != 40.0 || fc.Features[0].Geometry.Type != "LineString" {
		t.Errorf("unlit segments: %s", b)
	}
	code, _, b = c.do("analyst", "GET", "/indicators/hazard_exposed_households/features", nil)
	if code != 200 || json.Unmarshal(b, &fc) != nil {
		t.Fatalf("exposed = %d %s", code, b)
	}
	if len(fc.Features) != 1 || fc.Features[0].Properties["zddm"] != "220112203301JC00006" || strings.Contains(string(b), "张三") || strings.Contains(string(b), "holder") {
		t.Errorf("exposed households: %s", b)
	}

	// Targets: the administrator sets them (then the report uses them);
	// a planner may not; a bad key or value is a 422 naming it.
	body := map[string]any{"targets": []map[string]any{{"key": "farmland_target_m2", "village": A, "value": 70000}}}
	if code, _, b := c.do("planner", "PUT", "/indicators/targets", body); code != 403 {
		t.Errorf("planner PUT targets = %d %s", code, b)
	}
	if code, _, b := c.do("admin", "PUT", "/indicators/targets", body); code != 200 {
		t.Fatalf("admin PUT targets = %d %s", code, b)
	}
	code, _, b = c.do("planner", "GET", "/indicators?village="+A, nil)
	if code != 200 || json.Unmarshal(b, &one) != nil {
		t.Fatalf("= %d %s", code, b)
	}
	if n, d, _, _ := one.get("cultivated_land_area", A, ""); math.Abs(n-80000) > 0.5 || d != 70000 || one.Cached {
		t.Errorf("cultivated land after the target: %g / %g (cached %v)", n, d, one.Cached)
	}
	for _, bad := range []struct {
		body  any
		field string
	}{
		{map[string]any{"targets": []map[string]any{{"key": "nonsense", "value": 1}}}, "targets[0].key"},
		{map[string]any{"targets": []map[string]any{{"key": "reach_m:卫生室", "value": 0}}}, "targets[0].value"},
		{map[string]any{"targets": []map[string]any{{"key": "pbf_target_m2", "village": "12", "value": 1}}}, "targets[0].village"},
		{map[string]any{"targets": []map[string]any{}}, "targets"},
	} {
		code, _, b := c.do("admin", "PUT", "/indicators/targets", bad.body)
		var e struct{ Field string }
		_ = json.Unmarshal(b, &e)
		if code != 422 || e.Field != bad.field {
			t.Errorf("PUT %v = %d %s, want 422 naming %s", bad.body, code, b, bad.field)
		}
	}

	// Bad input: 4xx JSON naming the parameter.
	for _, bad := range []struct {
		path  string
		code  int
		field string
	}{
		{"/indicators?village=abc", 400, "village"},
		{"/indicators?date=2026-13-01", 400, "date"},
		{"/indicators?date=2001-01-01", 400, "date"}, // before the layers' history
		{"/indicators?f=pdf", 400, "f"},
		{"/indicators?village=220112203399", 404, "village"},
		{"/indicators/nonsense/features", 404, "key"},
		{"/indicators/homestead_avg_area/features", 404, "key"},
	} {
		code, h, b := c.do("planner", "GET", bad.path, nil)
		var e struct{ Field string }
		if code != bad.code || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || json.Unmarshal(b, &e) != nil || e.Field != bad.field {
			t.Errorf("%s = %d %s, want %d naming %s", bad.path, code, b, bad.code, bad.field)
		}
	}
	code, _, b = c.do("analyst", "GET", "/indicators/definitions", nil)
	if code != 200 || !strings.Contains(string(b), "road_lit_share") {
		t.Errorf("definitions = %d %.200s", code, b)
	}
}
