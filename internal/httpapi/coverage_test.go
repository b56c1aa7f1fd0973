package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/internal/coverage"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// TestCollectionCoverage: a collection with coverage links to
// /collections/{id}/coverage (rel "coverage") and summarises it in JSON
// and HTML; the route is a GeoJSON Feature in CRS84 with source, kind,
// recorded_at, area_km2 and villages; a collection without coverage says
// so and its route is 404 with the reason.
func TestCollectionCoverage(t *testing.T) {
	pool := testpg.New(t)
	ctx := context.Background()
	env := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 480000+x0, 4829000+y0, 480000+x1, 4829000+y1)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES
		('220112203300', '大营村', '集聚提升类', `+env(0, 0, 1000, 1000)+`), ('220112203301', '小营村', '集聚提升类', `+env(1000, 0, 3000, 1000)+`)`); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coverage.Apply(ctx, tx, layers.PermanentFarmland, coverage.Spec{Kind: coverage.Villages, Codes: []string{"220112203301"}}, true,
		coverage.Env{Actor: "test steward"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	t.Cleanup(ts.Close)

	var doc struct {
		Links []struct{ Href, Rel, Type string }
		Cov   *struct {
			Kind, Source, Href string
			RecordedAt         string   `json:"recorded_at"`
			AreaKM2            *float64 `json:"area_km2"`
		} `json:"coverage"`
	}
	resp, b := fetch(t, "GET", ts.URL+"/collections/permanent_farmland", nil)
	if resp.StatusCode != 200 || json.Unmarshal(b, &doc) != nil || doc.Cov == nil {
		t.Fatalf("collection = %d %s", resp.StatusCode, b)
	}
	href := ""
	for _, l := range doc.Links {
		if l.Rel == "coverage" && l.Type == "application/geo+json" {
			href = l.Href
		}
	}
	if href != ts.URL+"/collections/permanent_farmland/coverage" || doc.Cov.Href != href || doc.Cov.Kind != "villages" ||
		!strings.Contains(doc.Cov.Source, "小营村 220112203301") || doc.Cov.AreaKM2 == nil || *doc.Cov.AreaKM2 < 1.99 || *doc.Cov.AreaKM2 > 2.01 || doc.Cov.RecordedAt == "" {
		t.Fatalf("coverage link %q and member %+v in %s", href, doc.Cov, b)
	}

	resp, b = fetch(t, "GET", href, nil)
	var f struct {
		Type     string
		Geometry struct {
			Type        string
			Coordinates [][][][]float64
		}
		Properties struct {
			Layer, Kind, Source string
			RecordedBy          string   `json:"recorded_by"`
			RecordedAt          string   `json:"recorded_at"`
			AreaKM2             *float64 `json:"area_km2"`
			Villages            []struct {
				Code     string   `json:"xzqdm"`
				Name     string   `json:"xzqmc"`
				SharePct *float64 `json:"share_pct"`
			}
		}
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" || json.Unmarshal(b, &f) != nil {
		t.Fatalf("coverage route = %d %s", resp.StatusCode, b)
	}
	p := f.Properties
	if f.Type != "Feature" || f.Geometry.Type != "MultiPolygon" || p.Layer != "permanent_farmland" || p.Kind != "villages" || p.RecordedBy != "test steward" ||
		p.RecordedAt == "" || p.AreaKM2 == nil || *p.AreaKM2 < 1.99 || *p.AreaKM2 > 2.01 ||
		len(p.Villages) != 1 || p.Villages[0].Code != "220112203301" || p.Villages[0].Name != "小营村" || *p.Villages[0].SharePct != 100 {
		t.Fatalf("coverage feature %s", b)
	}
	// CRS84: longitude first, around 125.76°E 43.60°N.
	if c := f.Geometry.Coordinates[0][0][0]; c[0] < 125.7 || c[0] > 125.9 || c[1] < 43.5 || c[1] > 43.7 {
		t.Errorf("first vertex %v is not CRS84 near 双阳", c)
	}

	resp, b = fetch(t, "GET", ts.URL+"/collections/permanent_farmland", map[string]string{"Accept": "text/html"})
	if resp.StatusCode != 200 || !strings.Contains(string(b), "覆盖范围") || !strings.Contains(string(b), "2.000 km²") || !strings.Contains(string(b), `/collections/permanent_farmland/coverage"`) {
		t.Fatalf("collection HTML lacks the coverage: %s", b)
	}

	// Without coverage.
	resp, b = fetch(t, "GET", ts.URL+"/collections/roads", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"coverage":null`) || strings.Contains(string(b), `"rel":"coverage"`) {
		t.Fatalf("roads collection = %s", b)
	}
	resp, b = fetch(t, "GET", ts.URL+"/collections/roads/coverage", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), "NoCoverage") || !strings.Contains(string(b), "REVIEW") {
		t.Fatalf("roads coverage = %d %s", resp.StatusCode, b)
	}
	resp, b = fetch(t, "GET", ts.URL+"/collections/roads", map[string]string{"Accept": "text/html"})
	if !strings.Contains(string(b), "无覆盖范围") {
		t.Errorf("roads HTML lacks the no-coverage note")
	}
	resp, _ = fetch(t, "GET", ts.URL+"/collections/nope/coverage", nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown collection coverage = %d", resp.StatusCode)
	}
	// The collections list carries the member too.
	_, b = fetch(t, "GET", ts.URL+"/collections", nil)
	if strings.Count(string(b), `"rel":"coverage"`) != 1 {
		t.Errorf("collections list: %d coverage links", strings.Count(string(b), `"rel":"coverage"`))
	}
}
