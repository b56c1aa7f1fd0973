package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// homesteadFixture inserts three homestead parcels (20 m × 28 m squares
// near 125.76°E 43.60°N) with personal data, and returns the server.
func homesteadFixture(t testing.TB) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := testpg.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, holder_name, holder_id_number, household_id, geom)
		SELECT '220112203300JC0000' || i, '220112203300', '大营村' || i || '号', CASE WHEN i = 2 THEN '闲置' ELSE '已登记' END,
		       '马' || i, '22011219800101000' || i, 'H' || i,
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480600 + i * 30, 4829000, 480620 + i * 30, 4829028, 4551), 4490))
		FROM generate_series(1, 3) i`)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, TrustedProxies: loopback}))
	t.Cleanup(ts.Close)
	return ts, pool
}

type fc struct {
	Type           string `json:"type"`
	NumberReturned int    `json:"numberReturned"`
	NumberMatched  *int   `json:"numberMatched"`
	Features       []struct {
		ID         int64          `json:"id"`
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
	Links []struct{ Href, Rel string } `json:"links"`
}

func fetch(t *testing.T, method, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func items(t *testing.T, u string) fc {
	t.Helper()
	resp, b := fetch(t, "GET", u, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var out fc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, b)
	}
	if strings.Contains(string(b), `"crs":`) {
		t.Errorf("GET %s: GeoJSON carries a non-standard crs member (RFC 7946 dropped it)", u)
	}
	return out
}

func link(f fc, rel string) string {
	for _, l := range f.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestItemsPagingAndPersonalData(t *testing.T) {
	ts, _ := homesteadFixture(t)
	all := items(t, ts.URL+"/collections/homesteads/items")
	if all.Type != "FeatureCollection" || all.NumberReturned != 3 || all.NumberMatched == nil || *all.NumberMatched != 3 {
		t.Fatalf("items = %+v", all)
	}
	for _, f := range all.Features {
		for _, personal := range []string{"holder_name", "holder_id_number", "household_id"} {
			if _, ok := f.Properties[personal]; ok {
				t.Errorf("feature %d exposes personal field %s", f.ID, personal)
			}
		}
		if f.Properties["xzqdm"] != "220112203300" || f.Geometry.Type != "MultiPolygon" {
			t.Errorf("feature %d = %+v", f.ID, f)
		}
	}
	p1 := items(t, ts.URL+"/collections/homesteads/items?limit=2")
	if p1.NumberReturned != 2 || link(p1, "next") == "" || link(p1, "prev") != "" {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := items(t, link(p1, "next"))
	if p2.NumberReturned != 1 || link(p2, "next") != "" || link(p2, "prev") == "" {
		t.Fatalf("page 2: %+v", p2)
	}
	if p2.Features[0].ID == p1.Features[0].ID || p2.Features[0].ID == p1.Features[1].ID {
		t.Error("page 2 repeats a feature of page 1")
	}
	back := items(t, link(p2, "prev"))
	if back.Features[0].ID != p1.Features[0].ID {
		t.Error("prev link does not lead back to page 1")
	}
}

func TestItemsFiltersSortAndProperties(t *testing.T) {
	ts, _ := homesteadFixture(t)
	idle := items(t, ts.URL+"/collections/homesteads/items?status="+url.QueryEscape("闲置"))
	if idle.NumberReturned != 1 || idle.Features[0].Properties["zl"] != "大营村2号" {
		t.Fatalf("status=闲置: %+v", idle)
	}
	sorted := items(t, ts.URL+"/collections/homesteads/items?sortby=-zl&properties=zl,status")
	if sorted.Features[0].Properties["zl"] != "大营村3号" || len(sorted.Features[0].Properties) != 2 {
		t.Fatalf("sortby=-zl&properties=zl,status: %+v", sorted.Features[0].Properties)
	}
	// bbox around parcel 1 only (CRS84 lon,lat).
	var lon1, lat1 float64
	{
		one := items(t, ts.URL+"/collections/homesteads/items?limit=1")
		var c [][][][2]float64
		_ = json.Unmarshal(one.Features[0].Geometry.Coordinates, &c)
		lon1, lat1 = c[0][0][0][0], c[0][0][0][1]
	}
	bb := items(t, ts.URL+"/collections/homesteads/items?bbox="+url.QueryEscape(
		strings.Join([]string{ff(lon1 - 0.00005), ff(lat1 - 0.00005), ff(lon1 + 0.00005), ff(lat1 + 0.00005)}, ",")))
	if bb.NumberReturned != 1 {
		t.Fatalf("bbox around parcel 1 returned %d features", bb.NumberReturned)
	}
	// The same box in EPSG:4490 axis order (lat, lon) selects the same.
	bb2 := items(t, ts.URL+"/collections/homesteads/items?bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4490")+"&bbox="+url.QueryEscape(
		strings.Join([]string{ff(lat1 - 0.00005), ff(lon1 - 0.00005), ff(lat1 + 0.00005), ff(lon1 + 0.00005)}, ",")))
	if bb2.NumberReturned != 1 || bb2.Features[0].ID != bb.Features[0].ID {
		t.Fatalf("bbox in EPSG:4490 returned %d features", bb2.NumberReturned)
	}
}

func ff(x float64) string { b, _ := json.Marshal(x); return string(b) }

// TestItemsInGaussKruger: crs=EPSG:4551 gives northing,easting that match
// ST_Transform to the millimetre, with a Content-Crs header.
func TestItemsInGaussKruger(t *testing.T) {
	ts, pool := homesteadFixture(t)
	for _, srid := range []int{4551, 4530} {
		u := ts.URL + "/collections/homesteads/items?sortby=zl&limit=1&crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/"+itoa(srid))
		resp, b := fetch(t, "GET", u, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d %s", u, resp.StatusCode, b)
		}
		if got := resp.Header.Get("Content-Crs"); got != "<http://www.opengis.net/def/crs/EPSG/0/"+itoa(srid)+">" {
			t.Errorf("Content-Crs = %q", got)
		}
		var out fc
		_ = json.Unmarshal(b, &out)
		var c [][][][2]float64
		_ = json.Unmarshal(out.Features[0].Geometry.Coordinates, &c)
		var x, y float64
		err := pool.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(ST_Transform(geom, $1::int), 1)), 1) p
			FROM villageplan.homesteads WHERE id = $2) s`, srid, out.Features[0].ID).Scan(&x, &y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(c[0][0][0][0]-y) > 0.001 || math.Abs(c[0][0][0][1]-x) > 0.001 {
			t.Errorf("EPSG:%d first vertex = %v, want northing %.3f easting %.3f", srid, c[0][0][0], y, x)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestItemsBadRequests(t *testing.T) {
	ts, _ := homesteadFixture(t)
	cases := []struct {
		query, param string
		status       int
	}{
		{"limit=abc", "limit", 400},
		{"limit=0", "limit", 400},
		{"offset=-1", "offset", 400},
		{"bbox=1,2,3", "bbox", 400},
		{"bbox=NaN,1,2,3", "bbox", 400},
		{"bbox=125.8,43.6,125.7,43.7", "bbox", 400},
		{"bbox=125.7,43.7,125.8,43.6", "bbox", 400},
		{"bbox-crs=EPSG:4490", "bbox-crs", 400},
		{"crs=EPSG:999999", "crs", 400},
		{"crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2000"), "crs", 400},
		{"holder_name=" + url.QueryEscape("马1"), "holder_name", 400},
		{"properties=holder_id_number", "properties", 400},
		{"sortby=" + url.QueryEscape("zl;drop table x"), "sortby", 400},
		{url.QueryEscape("zl' OR '1'='1") + "=1", "zl' OR '1'='1", 400},
		{"zdmj=abc", "zdmj", 400},
		{"datetime=2020-01-01", "datetime", 400},
		{"f=xml", "", 406},
	}
	for _, c := range cases {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?"+c.query, nil)
		var body struct{ Code, Description string }
		_ = json.Unmarshal(b, &body)
		if resp.StatusCode != c.status || body.Code == "" || !strings.Contains(body.Description, c.param) {
			t.Errorf("?%s = %d %s, want %d naming %q", c.query, resp.StatusCode, b, c.status, c.param)
		}
	}
	// a huge limit is reduced, not refused
	if resp, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items?limit=100000000", nil); resp.StatusCode != 200 {
		t.Errorf("huge limit = %d", resp.StatusCode)
	}
	for _, u := range []string{"/collections/nope", "/collections/nope/items", "/collections/homesteads/items/999999", "/collections/homesteads/items/abc"} {
		if resp, b := fetch(t, "GET", ts.URL+u, nil); resp.StatusCode != 404 || !strings.Contains(string(b), `"code"`) {
			t.Errorf("%s = %d %s, want JSON 404", u, resp.StatusCode, b)
		}
	}
}

func TestItemETagChangesWithData(t *testing.T) {
	ts, pool := homesteadFixture(t)
	u := ts.URL + "/collections/homesteads/items/1"
	resp, b := fetch(t, "GET", u, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil || f["type"] != "Feature" {
		t.Fatalf("feature = %s", b)
	}
	tag := resp.Header.Get("ETag")
	if tag == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatal("no ETag/Last-Modified")
	}
	if resp, _ := fetch(t, "GET", u, map[string]string{"If-None-Match": tag}); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match with current tag = %d, want 304", resp.StatusCode)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE villageplan.homesteads SET status = '退出' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	resp, b = fetch(t, "GET", u, map[string]string{"If-None-Match": tag})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag || !strings.Contains(string(b), "退出") {
		t.Fatalf("after an edit = %d (ETag %s → %s), want 200 with the new data", resp.StatusCode, tag, resp.Header.Get("ETag"))
	}
	// items ETag moves too
	r1, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items", nil)
	_, _ = pool.Exec(context.Background(), `UPDATE villageplan.homesteads SET status = '已登记' WHERE id = 1`)
	r2, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items", nil)
	if r1.Header.Get("ETag") == r2.Header.Get("ETag") {
		t.Error("items ETag unchanged after an edit")
	}
}

func TestLandingCollectionsConformanceAPI(t *testing.T) {
	ts, _ := homesteadFixture(t)
	hdr := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.gov.cn", "X-Forwarded-Prefix": "/vp"}
	resp, b := fetch(t, "GET", ts.URL+"/", hdr)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"https://gis.example.gov.cn/vp/collections"`) {
		t.Fatalf("landing behind a proxy = %d %s", resp.StatusCode, b)
	}
	if v := resp.Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "X-Forwarded-Host") {
		t.Errorf("links built from X-Forwarded-* without Vary: %v", v)
	}
	var conf struct{ ConformsTo []string }
	_, b = fetch(t, "GET", ts.URL+"/conformance", nil)
	_ = json.Unmarshal(b, &conf)
	if len(conf.ConformsTo) == 0 || !strings.Contains(strings.Join(conf.ConformsTo, " "), "ogcapi-features-1/1.0/conf/core") {
		t.Fatalf("conformance = %s", b)
	}
	var cols struct {
		Collections []struct {
			ID     string
			CRS    []string
			Extent *struct{ Spatial struct{ BBox [][]float64 } }
		}
	}
	_, b = fetch(t, "GET", ts.URL+"/collections", nil)
	if err := json.Unmarshal(b, &cols); err != nil {
		t.Fatal(err)
	}
	if len(cols.Collections) != len(layers.Default().Layers()) {
		t.Fatalf("%d collections", len(cols.Collections))
	}
	for _, c := range cols.Collections {
		if c.ID == "homesteads" {
			if c.Extent == nil || c.Extent.Spatial.BBox[0][0] < 125.7 || c.Extent.Spatial.BBox[0][0] > 125.8 {
				t.Errorf("homesteads extent = %+v", c.Extent)
			}
			if !strings.Contains(strings.Join(c.CRS, " "), "EPSG/0/4551") || !strings.Contains(strings.Join(c.CRS, " "), "EPSG/0/4530") {
				t.Errorf("homesteads CRS list lacks the zone-42 Gauss-Krüger codes: %v", c.CRS)
			}
		}
	}
	resp, b = fetch(t, "GET", ts.URL+"/api", nil)
	var api struct {
		OpenAPI string
		Paths   map[string]any
	}
	if err := json.Unmarshal(b, &api); err != nil || api.OpenAPI != "3.0.3" || api.Paths["/collections/homesteads/items"] == nil {
		t.Fatalf("/api = %d %.300s", resp.StatusCode, b)
	}
	var apiRaw struct {
		Paths map[string]struct {
			Get struct{ Parameters []struct{ Name string } }
		}
	}
	_ = json.Unmarshal(b, &apiRaw)
	params := apiRaw.Paths["/collections/homesteads/items"].Get.Parameters
	if len(params) < 8 {
		t.Errorf("/api items parameters = %+v", params)
	}
	for _, p := range params {
		if p.Name == "holder_name" || p.Name == "holder_id_number" || p.Name == "household_id" {
			t.Errorf("/api offers personal field %s as a parameter", p.Name)
		}
	}
	resp, b = fetch(t, "GET", ts.URL+"/collections/homesteads/queryables", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"x-restricted":true`) || !strings.Contains(string(b), `"enum"`) {
		t.Fatalf("queryables = %d %s", resp.StatusCode, b)
	}
}

// TestGeoJSONDownload: f=geojson is the whole result as one file.
func TestGeoJSONDownload(t *testing.T) {
	ts, _ := homesteadFixture(t)
	resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f=geojson&status="+url.QueryEscape("已登记"), nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="homesteads.geojson"`) {
		t.Fatalf("download = %d %v", resp.StatusCode, resp.Header)
	}
	var out fc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("download is not JSON: %v\n%s", err, b)
	}
	if len(out.Features) != 2 || link(out, "next") != "" {
		t.Errorf("download = %+v", out)
	}
	if strings.Contains(string(b), "马") {
		t.Error("download carries personal data")
	}
}

// TestForwardedHeadersFromUntrustedClients: without --trusted-proxy a
// client's X-Forwarded-* headers do not reach the links.
func TestForwardedHeadersFromUntrustedClients(t *testing.T) {
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: testpg.New(t)}))
	defer ts.Close()
	hdr := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.com", "X-Forwarded-Prefix": "/x"}
	for _, path := range []string{"/", "/collections", "/tiles/homesteads.json", "/styles/default.json"} {
		resp, b := fetch(t, "GET", ts.URL+path, hdr)
		if resp.StatusCode != 200 || strings.Contains(string(b), "evil.example.com") || !strings.Contains(string(b), ts.URL) {
			t.Errorf("%s from an untrusted client: %d, links %s", path, resp.StatusCode, b[:min(len(b), 300)])
		}
	}
}
