package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/data/sample"
	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
	"villageplan/tiles"
	"villageplan/tiles/tiletest"
)

// tileClient is an HTTP client that does not add Accept-Encoding or decompress,
// so the tests see exactly what the server sends.
var tileClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

type tileResponse struct {
	code int
	hdr  http.Header
	body []byte
}

func tileFetch(t *testing.T, method, url string, hdr map[string]string) tileResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := tileClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return tileResponse{resp.StatusCode, resp.Header, b}
}

func acceptGzip() map[string]string { return map[string]string{"Accept-Encoding": "gzip"} }

// tileTownshipServer serves the sample township from a fresh database.
func tileTownshipServer(t *testing.T) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := testpg.New(t)
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default(), TrustedProxies: loopback}))
	t.Cleanup(ts.Close)
	return ts, pool
}

func tileAddr(lon, lat float64, z int) string {
	n := math.Exp2(float64(z))
	r := lat * math.Pi / 180
	return fmt.Sprintf("%d/%d/%d", z, int((lon+180)/360*n), int((1-math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi)/2*n))
}

func tileHomestead(t *testing.T, pool *pgxpool.Pool) (lon, lat float64, id int64) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT ST_X(c), ST_Y(c), id FROM (SELECT ST_Centroid(geom) c, id FROM villageplan.homesteads ORDER BY id LIMIT 1) s`).Scan(&lon, &lat, &id); err != nil {
		t.Fatal(err)
	}
	return lon, lat, id
}

func tileJSONError(t *testing.T, r tileResponse, status int, code string) {
	t.Helper()
	var e httpapi.ErrorBody
	if r.code != status || json.Unmarshal(r.body, &e) != nil || e.Code != code || e.Description == "" || r.hdr.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q %q, want %d JSON error %s", r.code, r.hdr.Get("Content-Type"), r.body, status, code)
	}
}

// TestTileRequestErrors: addresses outside the pyramid and disallowed
// filters are 400 with a JSON error, unknown tilesets 404.
func TestTileRequestErrors(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Pool: testpg.New(t)}))
	defer srv.Close()
	for _, path := range []string{
		"/tiles/map/1/2/0.mvt",        // x ≥ 2^z
		"/tiles/map/1/0/2.mvt",        // y ≥ 2^z
		"/tiles/map/0/1/0.mvt",        //
		"/tiles/map/23/0/0.mvt",       // z > 22
		"/tiles/map/-1/0/0.mvt",       // negative
		"/tiles/map/3/-1/0.mvt",       //
		"/tiles/map/3/0/-1.mvt",       //
		"/tiles/map/a/0/0.mvt",        // non-numeric
		"/tiles/map/3/1.5/0.mvt",      //
		"/tiles/map/3/0x1/0.mvt",      //
		"/tiles/map/3/%2B1/0.mvt",     // "+1"
		"/tiles/map/22/4194304/0.mvt", // 2^22
		"/tiles/map/3/99999999999999999999/0.mvt",
	} {
		tileJSONError(t, tileFetch(t, "GET", srv.URL+path, nil), http.StatusBadRequest, "InvalidTileAddress")
	}
	tileJSONError(t, tileFetch(t, "GET", srv.URL+"/tiles/no_such_layer/0/0/0.mvt", nil), http.StatusNotFound, "NotFound")
	tileJSONError(t, tileFetch(t, "GET", srv.URL+"/tiles/no_such_layer.json", nil), http.StatusNotFound, "NotFound")
	for _, q := range []string{
		"/tiles/streetlights/14/13915/5982.mvt?status=broken",        // not in the code list
		"/tiles/streetlights/14/13915/5982.mvt?pole_id=1",            // no code list
		"/tiles/homesteads/16/0/0.mvt?holder_name=x",                 // personal
		"/tiles/map/14/13915/5982.mvt?status=正常",                     // map takes no filter
		"/tiles/streetlights/14/13915/5982.mvt?status=正常&colour=red", // unknown parameter
	} {
		tileJSONError(t, tileFetch(t, "GET", srv.URL+q, nil), http.StatusBadRequest, "InvalidParameterValue")
	}
}

// TestTileHTTP: encodings, validators, empty tiles, HEAD, filters and
// metrics on the sample township.
func TestTileHTTP(t *testing.T) {
	srv, pool := tileTownshipServer(t)
	lon, lat, _ := tileHomestead(t, pool)
	url := srv.URL + "/tiles/homesteads/" + tileAddr(lon, lat, 16) + ".mvt"

	r := tileFetch(t, "GET", url, acceptGzip())
	if r.code != 200 || r.hdr.Get("Content-Encoding") != "gzip" || r.hdr.Get("Content-Type") != httpapi.MVTContentType {
		t.Fatalf("gzip request: %d %v", r.code, r.hdr)
	}
	etag := r.hdr.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || r.hdr.Get("Cache-Control") != "public, no-cache" || r.hdr.Get("Vary") != "Accept-Encoding" {
		t.Errorf("headers %v", r.hdr)
	}
	dec, err := tiletest.Decode(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if l := dec.Layer("homesteads"); l == nil || len(l.Features) == 0 {
		t.Fatalf("tile layers %v", dec.Names())
	}
	n := len(dec.Layer("homesteads").Features)

	// Without gzip in Accept-Encoding (absent, identity, q=0) the body is
	// the tileClient MVT.
	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		r := tileFetch(t, "GET", url, map[string]string{"Accept-Encoding": ae})
		if r.code != 200 || r.hdr.Get("Content-Encoding") != "" || bytes.HasPrefix(r.body, []byte{0x1f, 0x8b}) {
			t.Fatalf("Accept-Encoding %q: %d %v", ae, r.code, r.hdr)
		}
		d, err := tiletest.Decode(r.body)
		if err != nil || len(d.Layer("homesteads").Features) != n {
			t.Fatalf("Accept-Encoding %q: tileClient body decodes to %v, %v", ae, d, err)
		}
		if r.hdr.Get("ETag") != etag {
			t.Errorf("ETag differs between encodings")
		}
	}
	zr, _ := gzip.NewReader(bytes.NewReader(r.body))
	raw, _ := io.ReadAll(zr)
	if len(raw) <= len(r.body) {
		t.Errorf("gzip body %d bytes, tileClient %d", len(r.body), len(raw))
	}

	// If-None-Match → 304 with the validators, no body.
	nm := tileFetch(t, "GET", url, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if nm.code != http.StatusNotModified || len(nm.body) != 0 || nm.hdr.Get("ETag") != etag || nm.hdr.Get("Cache-Control") == "" {
		t.Errorf("If-None-Match: %d %v %d bytes", nm.code, nm.hdr, len(nm.body))
	}
	if r := tileFetch(t, "GET", url, map[string]string{"If-None-Match": `W/"other"`}); r.code != 200 {
		t.Errorf("If-None-Match with another ETag: %d", r.code)
	}
	if h := tileFetch(t, "HEAD", url, acceptGzip()); h.code != 200 || len(h.body) != 0 || h.hdr.Get("ETag") != etag {
		t.Errorf("HEAD: %d %v", h.code, h.hdr)
	}

	// Empty tiles: 204 No Content with validators (MapLibre shows nothing
	// and does not retry). In the Atlantic; and homesteads at z10, below
	// the layer's zoom range.
	for _, p := range []string{"/tiles/map/" + tileAddr(-30, 0, 16) + ".mvt", "/tiles/homesteads/" + tileAddr(lon, lat, 10) + ".mvt"} {
		r := tileFetch(t, "GET", srv.URL+p, acceptGzip())
		if r.code != http.StatusNoContent || len(r.body) != 0 || r.hdr.Get("ETag") == "" {
			t.Errorf("%s: %d %v %d bytes, want 204 with an ETag", p, r.code, r.hdr, len(r.body))
		}
		if r2 := tileFetch(t, "GET", srv.URL+p, map[string]string{"If-None-Match": r.hdr.Get("ETag")}); r2.code != http.StatusNotModified {
			t.Errorf("%s revalidated: %d", p, r2.code)
		}
	}

	// Filter on a code-listed field: ?status=故障 keeps only faulty lights.
	var faulty int
	var llon, llat float64
	if err := pool.QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom) FROM villageplan.streetlights WHERE status = '故障' ORDER BY id LIMIT 1`).Scan(&llon, &llat); err != nil {
		t.Fatalf("the sample has no faulty streetlight to filter on (the sample generator changed?): %v", err)
	}
	lt := tileAddr(llon, llat, 14)
	all := tileDecode(t, tileFetch(t, "GET", srv.URL+"/tiles/streetlights/"+lt+".mvt", acceptGzip()))
	flt := tileDecode(t, tileFetch(t, "GET", srv.URL+"/tiles/streetlights/"+lt+".mvt?status=故障", acceptGzip()))
	for _, f := range flt.Layer("streetlights").Features {
		if f.Properties["status"] != "故障" {
			t.Errorf("filtered tile has a %v light", f.Properties["status"])
		}
		faulty++
	}
	if faulty == 0 || faulty >= len(all.Layer("streetlights").Features) {
		t.Errorf("filter kept %d of %d lights", faulty, len(all.Layer("streetlights").Features))
	}
	both := tileDecode(t, tileFetch(t, "GET", srv.URL+"/tiles/streetlights/"+lt+".mvt?status=故障,正常", acceptGzip()))
	if len(both.Layer("streetlights").Features) <= faulty {
		t.Error("a filter with two values keeps no more than one")
	}

	// Metrics: render latency by tileset and zoom, cache outcomes.
	m := tileFetch(t, "GET", srv.URL+"/metrics", nil)
	for _, want := range []string{
		`villageplan_tile_render_seconds_count{tileset="homesteads",zoom="16"} 1`,
		`villageplan_tile_requests_total{outcome="not_modified",tileset="homesteads"}`,
		`villageplan_tile_requests_total{outcome="hit",tileset="homesteads"}`,
		`villageplan_tile_change_listener_up 1`,
		`villageplan_tile_cache_bytes`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func tileDecode(t *testing.T, r tileResponse) *tiletest.Tile {
	t.Helper()
	if r.code == http.StatusNoContent {
		return &tiletest.Tile{}
	}
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	d, err := tiletest.Decode(r.body)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEditInvalidatesTilesAcrossServers: two servers (separate pools, as
// two processes would have) share one database; after an edit committed by
// a third connection both serve the new tile with a new ETag.
func TestEditInvalidatesTilesAcrossServers(t *testing.T) {
	ctx := context.Background()
	dbURL := testpg.NewDatabase(t)
	var servers []*httptest.Server
	for i := 0; i < 2; i++ {
		pool, err := db.Open(ctx, dbURL, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if i == 0 {
			if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
	}
	editor, err := db.Open(ctx, dbURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer editor.Close()
	lon, lat, id := tileHomestead(t, editor)
	paths := []string{"/tiles/homesteads/" + tileAddr(lon, lat, 16) + ".mvt", "/tiles/map/" + tileAddr(lon, lat, 15) + ".mvt"}
	old := map[string]string{}
	for _, srv := range servers {
		for _, p := range paths {
			r := tileFetch(t, "GET", srv.URL+p, acceptGzip())
			r2 := tileFetch(t, "GET", srv.URL+p, acceptGzip())
			if r.code != 200 || r2.hdr.Get("X-Tile-Cache") != "hit" {
				t.Fatalf("%s%s: %d, second request %s", srv.URL, p, r.code, r2.hdr.Get("X-Tile-Cache"))
			}
			old[srv.URL+p] = r.hdr.Get("ETag")
		}
	}
	if old[servers[0].URL+paths[0]] != old[servers[1].URL+paths[0]] {
		t.Error("two servers give one tile different ETags")
	}
	if _, err := editor.Exec(ctx, `UPDATE villageplan.homesteads SET status = '退出' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for _, srv := range servers {
		for _, p := range paths {
			start := time.Now()
			var r tileResponse
			for attempt := 1; ; attempt++ {
				r = tileFetch(t, "GET", srv.URL+p, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": old[srv.URL+p]})
				if r.code == 200 {
					t.Logf("%s%s: new tile on request %d, %s after the commit", srv.URL, p, attempt, time.Since(start).Round(time.Microsecond))
					break
				}
				if r.code != http.StatusNotModified || time.Since(start) > 2*time.Second {
					t.Fatalf("%s%s after the edit: %d after %s", srv.URL, p, r.code, time.Since(start))
				}
			}
			d := tileDecode(t, r)
			for _, f := range d.Layer("homesteads").Features {
				if int64(f.ID) == id && f.Properties["status"] != "退出" {
					t.Errorf("%s%s: edited parcel shows status %v", srv.URL, p, f.Properties["status"])
				}
			}
		}
	}
}

// TestTileJSONAndStyle checks the TileJSON 3.0 documents and the MapLibre
// style against the catalog and the data.
func TestTileJSONAndStyle(t *testing.T) {
	srv, pool := tileTownshipServer(t)
	cat := layers.Default()
	// An import of OpenStreetMap roads records its licence notice.
	if _, err := pool.Exec(context.Background(), `UPDATE villageplan.layer_metadata SET attribution = '© OpenStreetMap contributors (ODbL)', is_sample = false WHERE layer = 'roads'`); err != nil {
		t.Fatal(err)
	}
	var tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		MinZoom      int        `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		Bounds       [4]float64 `json:"bounds"`
		Center       [3]float64 `json:"center"`
		Attribution  string     `json:"attribution"`
		VectorLayers []struct {
			ID      string            `json:"id"`
			MinZoom int               `json:"minzoom"`
			MaxZoom int               `json:"maxzoom"`
			Fields  map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	r := tileFetch(t, "GET", srv.URL+"/tiles/map.json", nil)
	if r.code != 200 || json.Unmarshal(r.body, &tj) != nil {
		t.Fatalf("/tiles/map.json: %d %s", r.code, r.body)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != srv.URL+"/tiles/map/{z}/{x}/{y}.mvt" || tj.MinZoom != 8 || tj.MaxZoom != 22 {
		t.Errorf("TileJSON %+v", tj)
	}
	// The sample township lies around 125.76 E 43.60 N, 8 km × 6 km.
	b := tj.Bounds
	if b[0] < 125.6 || b[2] > 125.9 || b[1] < 43.5 || b[3] > 43.7 || b[0] >= b[2] || b[1] >= b[3] {
		t.Errorf("bounds %v", b)
	}
	if tj.Center[0] < b[0] || tj.Center[0] > b[2] || tj.Center[1] < b[1] || tj.Center[1] > b[3] || tj.Center[2] < 8 {
		t.Errorf("center %v outside bounds %v", tj.Center, b)
	}
	if !strings.Contains(tj.Attribution, "示例数据") || !strings.Contains(tj.Attribution, "© OpenStreetMap contributors") {
		t.Errorf("attribution %q lacks the sample-data or the OpenStreetMap notice", tj.Attribution)
	}
	labelled := 0
	for _, l := range cat.Layers() {
		if tiles.HasLabelPoints(l) {
			labelled++
		}
	}
	if len(tj.VectorLayers) != len(cat.Layers())+labelled {
		t.Errorf("%d vector_layers, catalog has %d layers and %d label-point layers", len(tj.VectorLayers), len(cat.Layers()), labelled)
	}
	vl := map[string]bool{}
	for _, v := range tj.VectorLayers {
		vl[v.ID] = true
		if base, ok := strings.CutSuffix(v.ID, tiles.LabelLayerSuffix); ok {
			if l, ok := cat.Layer(base); !ok || !tiles.HasLabelPoints(l) || len(v.Fields) != 1 {
				t.Errorf("label vector layer %+v", v)
			}
			continue
		}
		l, ok := cat.Layer(v.ID)
		if !ok || v.MinZoom != l.MinZoom || v.MaxZoom != l.MaxZoom {
			t.Errorf("vector layer %+v", v)
			continue
		}
		for _, f := range l.Fields {
			_, in := v.Fields[f.Name]
			if in != (!f.Personal && f.TileMinZoom >= 0) {
				t.Errorf("%s.%s in vector_layers fields = %v", l.ID, f.Name, in)
			}
		}
	}
	r = tileFetch(t, "GET", srv.URL+"/tiles/homesteads.json", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "map.example.gov.cn, proxy2", "X-Forwarded-Prefix": "/vp"})
	if err := json.Unmarshal(r.body, &tj); err != nil || tj.MinZoom != 14 || tj.Tiles[0] != "https://map.example.gov.cn/vp/tiles/homesteads/{z}/{x}/{y}.mvt" || len(tj.VectorLayers) != 1 {
		t.Errorf("/tiles/homesteads.json behind a proxy: %s", r.body)
	}

	var style struct {
		Version int                       `json:"version"`
		Sources map[string]map[string]any `json:"sources"`
		Glyphs  string                    `json:"glyphs"`
		Sprite  any                       `json:"sprite"`
		Layers  []map[string]any          `json:"layers"`
	}
	r = tileFetch(t, "GET", srv.URL+"/styles/default.json", nil)
	if r.code != 200 || json.Unmarshal(r.body, &style) != nil {
		t.Fatalf("/styles/default.json: %d %s", r.code, r.body)
	}
	if style.Version != 8 || style.Sources["villageplan"]["url"] != srv.URL+"/tiles/map.json" || style.Sprite != nil {
		t.Errorf("style header: version %d sources %v sprite %v", style.Version, style.Sources, style.Sprite)
	}
	// No external resource: every URL in the document points at the server.
	for _, u := range strings.Split(string(r.body), `"http`)[1:] {
		if !strings.HasPrefix("http"+u, srv.URL) {
			t.Errorf("external URL in the style: http%s", u[:min(60, len(u))])
		}
	}
	ids := map[string]bool{}
	styled := map[string]bool{}
	for _, l := range style.Layers {
		id := fmt.Sprint(l["id"])
		if ids[id] {
			t.Errorf("duplicate style layer id %s", id)
		}
		ids[id] = true
		if l["type"] == "background" {
			continue
		}
		sl := fmt.Sprint(l["source-layer"])
		if !vl[sl] || l["source"] != "villageplan" {
			t.Errorf("style layer %s reads %v/%s", id, l["source"], sl)
		}
		styled[sl] = true
		if l["type"] == "symbol" {
			layout := l["layout"].(map[string]any)
			if fmt.Sprint(layout["text-font"]) == "" {
				t.Errorf("symbol layer %s without a font", id)
			}
		}
	}
	for _, l := range cat.Layers() {
		if !styled[l.ID] {
			t.Errorf("layer %s has no style layer", l.ID)
		}
	}
	// No glyphs URL: MapLibre draws every label with the browser's fonts,
	// so Latin road codes show as well as Chinese names, offline.
	if style.Glyphs != "" {
		t.Errorf("style names a glyphs URL %q; labels would need glyph files", style.Glyphs)
	}
}

// TestTilesWithoutDatabase: without a database, tiles are 503 (JSON) and
// TileJSON and style still answer.
func TestTilesWithoutDatabase(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Options{}))
	defer srv.Close()
	tileJSONError(t, tileFetch(t, "GET", srv.URL+"/tiles/map/14/13915/5982.mvt", nil), http.StatusServiceUnavailable, "NotReady")
	tileJSONError(t, tileFetch(t, "GET", srv.URL+"/tiles/map/30/0/0.mvt", nil), http.StatusBadRequest, "InvalidTileAddress")
	for _, p := range []string{"/tiles/map.json", "/styles/default.json"} {
		if r := tileFetch(t, "GET", srv.URL+p, nil); r.code != 200 {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
	}
}

// TestTileEncodingsCacheOff: with the tile cache off every request renders
// the tile; a client without gzip gets ST_AsMVT's bytes unchanged and a
// gzip client the same MVT compressed, under one ETag, in either order;
// the cached server's answers are the same MVT under the same ETag.
func TestTileEncodingsCacheOff(t *testing.T) {
	pool := testpg.New(t)
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	off := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default(), TileCacheBytes: -1}))
	t.Cleanup(off.Close)
	on := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default()}))
	t.Cleanup(on.Close)
	lon, lat, _ := tileHomestead(t, pool)
	path := "/tiles/homesteads/" + tileAddr(lon, lat, 16) + ".mvt"
	var want []byte // the MVT of the first answer, decompressed
	var etag string
	for i, srv := range []*httptest.Server{off, off, on, on} {
		for _, gz := range []bool{i%2 == 0, i%2 != 0} {
			hdr := map[string]string{"Accept-Encoding": "identity"}
			if gz {
				hdr = acceptGzip()
			}
			r := tileFetch(t, "GET", srv.URL+path, hdr)
			if r.code != 200 {
				t.Fatalf("%s gzip=%v: %d", srv.URL, gz, r.code)
			}
			if srv == off && r.hdr.Get("X-Tile-Cache") != "miss" {
				t.Errorf("cache off: X-Tile-Cache %q, want miss", r.hdr.Get("X-Tile-Cache"))
			}
			body := r.body
			if gz != (r.hdr.Get("Content-Encoding") == "gzip") || gz != bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
				t.Fatalf("gzip=%v: Content-Encoding %q", gz, r.hdr.Get("Content-Encoding"))
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if r.hdr.Get("Content-Length") != fmt.Sprint(len(r.body)) {
				t.Errorf("Content-Length %s for %d bytes", r.hdr.Get("Content-Length"), len(r.body))
			}
			d, err := tiletest.Decode(body)
			if err != nil || d.Layer("homesteads") == nil || len(d.Layer("homesteads").Features) == 0 {
				t.Fatalf("server %d gzip=%v: body decodes to %v, %v", i, gz, d, err)
			}
			if etag == "" {
				etag = r.hdr.Get("ETag")
			} else if r.hdr.Get("ETag") != etag {
				t.Errorf("server %d gzip=%v: ETag %s, first %s", i, gz, r.hdr.Get("ETag"), etag)
			}
			// ST_AsMVT is deterministic: every answer is the same MVT.
			if want == nil {
				want = body
			} else if !bytes.Equal(body, want) {
				t.Errorf("server %d gzip=%v: MVT of %d bytes differs from the first answer's %d", i, gz, len(body), len(want))
			}
		}
	}
}
