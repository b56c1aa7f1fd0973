package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMapMeasure: POST /map/measure gives a line's length and a polygon's
// area on the Gauss-Krüger plane of the siting checks: a 100 m line and a
// 20 m × 28 m parcel laid out on EPSG:4551 measure 100.00 m and 560.00 m²
// (perimeter 96.00 m) when sent in CRS84, and the polygon's area is the
// number the desk preview (the siting check's measurement) reports for
// the same ring. Other geometries are a 400 naming the field.
func TestMapMeasure(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	// The siting measurement needs a village around the sites.
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, township_code, geom) VALUES ('220112203300', '大营村', '集聚提升类', '220112203',
		ST_Multi(ST_Transform(ST_MakeEnvelope(479000, 4827000, 483000, 4832000, 4551), 4490)))`); err != nil {
		t.Fatal(err)
	}
	var line, poly string
	if err := pool.QueryRow(ctx, `SELECT ST_AsGeoJSON(ST_Transform(ST_GeomFromText('LINESTRING(480600 4829000, 480660 4829000, 480660 4829040)', 4551), 4490), 12),
		ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(480600, 4829000, 480620, 4829028, 4551), 4490), 12)`).Scan(&line, &poly); err != nil {
		t.Fatal(err)
	}
	measure := func(geom string) (int, map[string]any) {
		resp, m := call(t, "", "POST", ts.URL+"/map/measure", "application/json", `{"geometry":`+geom+`}`)
		return resp.StatusCode, m
	}
	code, m := measure(line)
	if code != 200 || m["length_m"] != 100.0 || m["epsg"] != 4551.0 || m["area_m2"] != 0.0 {
		t.Errorf("line: %d %v, want length 100 m on EPSG:4551", code, m)
	}
	if segs := fmt.Sprint(m["segments_m"]); segs != "[60 40]" {
		t.Errorf("line segments %s, want [60 40]", segs)
	}
	code, m = measure(poly)
	if code != 200 || m["area_m2"] != 560.0 || m["perimeter_m"] != 96.0 || !strings.Contains(fmt.Sprint(m["plane"]), "126") {
		t.Errorf("polygon: %d %v, want 560 m², perimeter 96 m on the CM 126°E plane", code, m)
	}
	// The siting measurement of the same ring.
	resp, pv := call(t, "", "POST", ts.URL+"/desk/preview", "application/json", `{"site":`+poly+`}`)
	if resp.StatusCode != 200 {
		t.Fatalf("preview = %d %v", resp.StatusCode, pv)
	}
	site := pv["sites"].([]any)[0].(map[string]any)["site"].(map[string]any)
	if site["area_m2"] != m["area_m2"] || site["measure_epsg"] != m["epsg"] {
		t.Errorf("siting measures %v m² on EPSG:%v, the map's ruler %v m² on EPSG:%v", site["area_m2"], site["measure_epsg"], m["area_m2"], m["epsg"])
	}
	// An irregular ring: still the same number to the centimetre.
	irr := `{"type":"Polygon","coordinates":[[[125.7601,43.6002],[125.76123,43.60031],[125.76141,43.60107],[125.76052,43.60119],[125.7601,43.6002]]]}`
	_, m = measure(irr)
	_, pv = call(t, "", "POST", ts.URL+"/desk/preview", "application/json", `{"site":`+irr+`}`)
	site = pv["sites"].([]any)[0].(map[string]any)["site"].(map[string]any)
	if site["area_m2"] != m["area_m2"] || m["area_m2"].(float64) < 1000 {
		t.Errorf("irregular ring: siting %v m², ruler %v m²", site["area_m2"], m["area_m2"])
	}
	for name, body := range map[string]string{
		"point":   `{"type":"Point","coordinates":[125.76,43.6]}`,
		"open":    `{"type":"Polygon","coordinates":[[[125.76,43.6],[125.77,43.6],[125.77,43.61],[125.76,43.61]]]}`,
		"abroad":  `{"type":"LineString","coordinates":[[10,50],[10.1,50]]}`,
		"one":     `{"type":"LineString","coordinates":[[125.76,43.6]]}`,
		"degrees": `{"type":"LineString","coordinates":[[4829000,480600],[4829000,480700]]}`,
		"text":    `"x"`,
	} {
		if code, m := measure(body); code != 400 || m["field"] != "geometry" {
			t.Errorf("%s: %d %v, want 400 naming geometry", name, code, m)
		}
	}
	if resp, m := call(t, "", "POST", ts.URL+"/map/measure", "application/json", `{"geometry":`); resp.StatusCode != 400 {
		t.Errorf("broken JSON: %d %v", resp.StatusCode, m)
	}
}

// TestLayerVersions: GET /map/versions.json names every layer's version,
// and a plain SQL edit (as QGIS makes it) moves the version of its layer
// only.
func TestLayerVersions(t *testing.T) {
	ts, pool := editFixture(t)
	get := func() map[string]string {
		resp, b := fetch(t, "GET", ts.URL+"/map/versions.json", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("versions = %d %s (%v)", resp.StatusCode, b, resp.Header)
		}
		var v struct {
			Layers map[string]string `json:"layers"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.Layers
	}
	before := get()
	if before["homesteads"] == "" || before["roads"] == "" {
		t.Fatalf("versions %v lack homesteads or roads", before)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE villageplan.homesteads SET zl = '改' WHERE zddm = '220112203300JC00001'`); err != nil {
		t.Fatal(err)
	}
	// The change notification reaches the tile service's view within
	// milliseconds; a not yet merged notification makes it read the table.
	var after map[string]string
	for i := 0; i < 50; i++ {
		if after = get(); after["homesteads"] != before["homesteads"] {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after["homesteads"] == before["homesteads"] {
		t.Errorf("homesteads version %s did not move after a SQL update", after["homesteads"])
	}
	if after["roads"] != before["roads"] {
		t.Errorf("roads version moved (%s → %s) without a roads edit", before["roads"], after["roads"])
	}
}
