package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"villageplan/data/sample"
	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/projects"
	"villageplan/internal/testpg"
)

type assessmentResult struct {
	Year           int
	Closed         bool
	DefaultWeights bool `json:"default_weights"`
	Weights        []struct {
		Key    string
		Weight float64
	}
	Villages []struct {
		Village, Name string
		Score         *float64
		Rank          int
		Parts         []struct {
			Key    string
			Weight float64
			Value  *float64
			Score  *float64
		}
	}
}

// TestAssessmentHTTP on the sample township with its sample projects: the
// result over HTTP (roles: planners, approvers, analysts, admin read;
// only the admin sets weights and closes a year), the .xlsx opened with
// excelize, the choropleth GeoJSON, a village's PDF sheet read back with
// pdftotext, weights audited, closing a year, and bad input as 4xx naming
// the field.
func TestAssessmentHTTP(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := projects.LoadSamples(ctx, pool, time.Now()); err != nil || n == 0 {
		t.Fatalf("sample projects: %d, %v", n, err)
	}
	tokens := map[string]string{
		"planner":  bearerFor(t, pool, "u-planner", auth.Grant{Role: auth.PlanningEditor}),
		"approver": bearerFor(t, pool, "u-approver", auth.Grant{Role: auth.TownshipApprover}),
		"analyst":  bearerFor(t, pool, "u-analyst", auth.Grant{Role: auth.DataAnalyst}),
		"admin":    bearerFor(t, pool, "u-admin", auth.Grant{Role: auth.Admin}),
		"clerk":    bearerFor(t, pool, "u-clerk", auth.Grant{Role: auth.VillageClerk, Village: "220112203300"}),
		"window":   bearerFor(t, pool, "u-window", auth.Grant{Role: auth.TownshipWindow}),
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Accounts: testAccounts(pool)})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	c := indicatorClient{t, ts, tokens}
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	ys := func(s string) string { return strings.ReplaceAll(s, "{y}", itoa(year)) }

	// who sees scores
	for who, want := range map[string]int{"planner": 200, "approver": 200, "analyst": 200, "admin": 200, "clerk": 403, "window": 403, "": 401} {
		if st, _, b := c.do(who, "GET", "/assessment/results", nil); st != want {
			t.Errorf("%q GET /assessment/results: %d, want %d: %s", who, st, want, b)
		}
	}
	st, _, b := c.do("planner", "GET", "/assessment/results", nil)
	var res assessmentResult
	if err := json.Unmarshal(b, &res); err != nil || st != 200 {
		t.Fatalf("results: %d %v", st, err)
	}
	if res.Year != year || !res.DefaultWeights || res.Closed || len(res.Villages) != 6 {
		t.Fatalf("results: year %d default %v closed %v villages %d", res.Year, res.DefaultWeights, res.Closed, len(res.Villages))
	}
	// every sample village has a score, ranks are ordered, parts are the
	// weighted keys and each part score is in 0…100
	for i, v := range res.Villages {
		if v.Score == nil || v.Rank < 1 || (i > 0 && *v.Score > *res.Villages[i-1].Score) || len(v.Parts) != len(res.Weights) {
			t.Errorf("village %d: %+v", i, v)
		}
		projectCounted := false
		for _, p := range v.Parts {
			if p.Score != nil && (*p.Score < 0 || *p.Score > 100) {
				t.Errorf("%s %s part score %v", v.Name, p.Key, *p.Score)
			}
			projectCounted = projectCounted || (p.Key == "project_completion" && p.Value != nil)
		}
		if !projectCounted {
			t.Errorf("%s: the sample projects are not counted", v.Name)
		}
	}

	// weights: only the admin, validated (422 naming the member), audited
	if st, _, _ := c.do("planner", "PUT", ys("/assessment/weights/{y}"), map[string]any{"weights": []any{map[string]any{"key": "road_lit_share", "weight": 1}}}); st != 403 {
		t.Errorf("planner PUT weights: %d", st)
	}
	for body, field := range map[string]string{
		`{"weights":[{"key":"road_lit_share","weight":1},{"key":"nope","weight":1}]}`: "weights[1].key",
		`{"weights":[{"key":"road_lit_share","weight":-2}]}`:                          "weights[0].weight",
		`{"weights":[]}`: "weights",
	} {
		var raw any
		_ = json.Unmarshal([]byte(body), &raw)
		st, _, b := c.do("admin", "PUT", ys("/assessment/weights/{y}"), raw)
		if st != 422 || !strings.Contains(string(b), `"`+field+`"`) {
			t.Errorf("PUT %s: %d %s, want 422 naming %s", body, st, b, field)
		}
	}
	weights := map[string]any{"weights": []any{
		map[string]any{"key": "road_lit_share", "weight": 30}, map[string]any{"key": "reach_shelter", "weight": 30},
		map[string]any{"key": "project_completion", "weight": 40}}}
	if st, _, b := c.do("admin", "PUT", ys("/assessment/weights/{y}"), weights); st != 200 || !strings.Contains(string(b), `"default":false`) {
		t.Fatalf("admin PUT weights: %d %s", st, b)
	}
	var audited int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE action = 'assessment.weights' AND username = 'u-admin' AND subject_id = $1`, itoa(year)).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit rows of the weights: %d, %v", audited, err)
	}
	_, _, b = c.do("analyst", "GET", "/assessment/results", nil)
	res = assessmentResult{}
	_ = json.Unmarshal(b, &res)
	if res.DefaultWeights || len(res.Weights) != 3 || len(res.Villages[0].Parts) != 3 {
		t.Errorf("after PUT: default %v weights %v", res.DefaultWeights, res.Weights)
	}
	// The score is the weighted mean of the parts (all three are shares).
	for _, v := range res.Villages {
		sum, ws := 0.0, 0.0
		for _, p := range v.Parts {
			if p.Score != nil {
				sum += p.Weight * *p.Value
				ws += p.Weight
			}
		}
		if ws > 0 && (v.Score == nil || absf(sum/ws-*v.Score) > 0.006) {
			t.Errorf("%s: score %v, weighted mean of its parts %.4f", v.Name, v.Score, sum/ws)
		}
	}

	// .xlsx
	st, h, b := c.do("approver", "GET", "/assessment/results?f=xlsx", nil)
	if st != 200 || h.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("xlsx: %d %s", st, h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("排名")
	if len(rows) != 8 || rows[2][0] != "1" || rows[2][2] != res.Villages[0].Name {
		t.Errorf("xlsx ranking: %q", rows)
	}
	f.Close()

	// choropleth
	st, h, b = c.do("planner", "GET", "/assessment/villages.geojson", nil)
	var fc struct {
		Type     string
		Features []struct {
			Geometry   struct{ Type string }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &fc); err != nil || st != 200 || fc.Type != "FeatureCollection" || len(fc.Features) != 6 || h.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("geojson: %d %v %d", st, err, len(fc.Features))
	}
	for _, ft := range fc.Features {
		if ft.Geometry.Type != "MultiPolygon" || ft.Properties["score"] == nil || ft.Properties["name"] == "" {
			t.Errorf("feature %s %v", ft.Geometry.Type, ft.Properties)
		}
	}

	// the sheet of the first-ranked village
	top := res.Villages[0]
	st, h, b = c.do("analyst", "GET", "/assessment/villages/"+top.Village+"/sheet", nil)
	if st != 200 || h.Get("Content-Type") != "application/pdf" {
		t.Fatalf("sheet: %d %s %s", st, h.Get("Content-Type"), b)
	}
	if dir := os.Getenv("VILLAGEPLAN_TEST_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(dir+"/assessment-sheet.pdf", b, 0o644)
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(" ", "", "\n", "").Replace(string(out))
	for _, s := range []string{top.Name + itoa(year) + "年度乡村建设考核评估表", "第1名（共6村）", "村内主干道路灯覆盖率", "应急避难场所可达率", "项目完成率", "自然屯", "EPSG:4551"} {
		if !strings.Contains(text, s) {
			t.Errorf("sheet lacks %q:\n%s", s, out)
		}
	}

	// bad input
	for path, want := range map[string]string{
		"/assessment/results?year=19":             `"year"`,
		"/assessment/results?f=pdf":               `"f"`,
		"/assessment/villages/2201/sheet":         `"village"`,
		"/assessment/villages/220112999999/sheet": `"village"`,
		"/assessment/weights/abc":                 `"year"`,
		"/assessment/villages.geojson?year=3000":  `"year"`,
	} {
		st, _, b := c.do("planner", "GET", path, nil)
		if st < 400 || st >= 500 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %s, want 4xx naming %s", path, st, b, want)
		}
	}

	// closing the year: admin only, once; weights are then fixed
	if st, _, _ := c.do("planner", "POST", ys("/assessment/years/{y}/close"), nil); st != 403 {
		t.Errorf("planner closes: %d", st)
	}
	if st, _, b := c.do("admin", "POST", ys("/assessment/years/{y}/close"), nil); st != 201 || !strings.Contains(string(b), `"closed":true`) {
		t.Fatalf("admin closes: %d %s", st, b)
	}
	if st, _, b := c.do("admin", "POST", ys("/assessment/years/{y}/close"), nil); st != 409 || !strings.Contains(string(b), `"year"`) {
		t.Errorf("second close: %d %s", st, b)
	}
	if st, _, _ := c.do("admin", "PUT", ys("/assessment/weights/{y}"), weights); st != 409 {
		t.Errorf("weights of a closed year: %d", st)
	}
	st, _, b = c.do("planner", "GET", "/assessment/history", nil)
	if st != 200 || !strings.Contains(string(b), `"closed":true`) {
		t.Errorf("history: %d %s", st, b)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE action = 'assessment.close'`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit rows of the close: %d, %v", audited, err)
	}
}

func absf(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
