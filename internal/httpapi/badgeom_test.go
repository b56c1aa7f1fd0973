package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/data/sample"
	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// badFeature is one stored geometry that the database would refuse today
// (its CHECK constraints were dropped first, as an administrator could).
type badFeature struct {
	layer *layers.Layer
	what  string
	geom  string // SQL, EPSG:4490; $1, $2 = the site's south-west corner on EPSG:4551
	id    int64
}

// TestBadStoredGeometries: with the geometry CHECK constraints of six
// layers dropped, an invalid bow-tie, an EMPTY geometry, a polygon across
// the antimeridian and a zero-area sliver are stored next to the sample
// township's homesteads and farmland. Siting checks at them, items pages
// (JSON and HTML with its SVG map), single features, tiles, the web map's
// overlay and every download format then answer without a 5xx, and the
// checks name the invalid features they measured (REVIEW at least).
func TestBadStoredGeometries(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	// A free spot 30 m east of a homestead of the sample, on EPSG:4551.
	var hx, hy float64
	if err := pool.QueryRow(ctx, `SELECT ST_XMax(g) + 30, ST_YMin(g) FROM (SELECT ST_Transform(geom, 4551) AS g
		FROM villageplan.homesteads ORDER BY id LIMIT 1) h`).Scan(&hx, &hy); err != nil {
		t.Fatal(err)
	}
	gk := func(wkt string) string {
		return `ST_Multi(ST_Transform(ST_Translate(ST_GeomFromText('` + wkt + `', 4551), $1, $2), 4490))`
	}
	bowtie := gk("POLYGON((0 0,30 30,30 0,0 30,0 0))")
	// Zero area: three points on one parallel, 0…30 m east of the corner.
	sliver := `(SELECT ST_Multi(ST_MakePolygon(ST_MakeLine(ARRAY[ST_Point(x, y, 4490), ST_Point(x + 0.0002, y, 4490), ST_Point(x + 0.0004, y, 4490), ST_Point(x, y, 4490)])))
		FROM (SELECT ST_X(c) AS x, ST_Y(c) AS y FROM ST_Transform(ST_Point($1, $2 + 15, 4551), 4490) c) a)`
	bad := []*badFeature{
		{layer: layers.Homesteads, what: "bowtie", geom: bowtie},
		{layer: layers.Homesteads, what: "empty", geom: `'SRID=4490;MULTIPOLYGON EMPTY'::geometry`},
		{layer: layers.Homesteads, what: "antimeridian", geom: `'SRID=4490;MULTIPOLYGON(((179.9 43.6,180.1 43.6,180.1 43.7,179.9 43.7,179.9 43.6)))'::geometry`},
		{layer: layers.Homesteads, what: "sliver", geom: sliver},
		{layer: layers.PermanentFarmland, what: "bowtie", geom: bowtie},
		{layer: layers.PermanentFarmland, what: "empty", geom: `'SRID=4490;MULTIPOLYGON EMPTY'::geometry`},
		{layer: layers.PermanentFarmland, what: "sliver", geom: sliver},
		{layer: layers.ControlZones, what: "bowtie", geom: bowtie},
		{layer: layers.ControlZones, what: "empty", geom: `'SRID=4490;MULTIPOLYGON EMPTY'::geometry`},
		{layer: layers.LandUse, what: "bowtie", geom: bowtie},
		{layer: layers.Roads, what: "empty", geom: `'SRID=4490;MULTILINESTRING EMPTY'::geometry`},
		{layer: layers.Roads, what: "collapsed", geom: `ST_Multi(ST_Transform(ST_Translate(ST_GeomFromText('LINESTRING(15 40,15 40)', 4551), $1, $2), 4490))`},
		{layer: layers.Streetlights, what: "empty", geom: `'SRID=4490;POINT EMPTY'::geometry`},
	}
	dropped := map[string]bool{}
	for _, b := range bad {
		l := b.layer
		if !dropped[l.Table] {
			dropped[l.Table] = true
			rows, err := pool.Query(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND conname LIKE $2`,
				l.QualifiedTable(), "vp\\_"+strings.ReplaceAll(l.Table, "_", "\\_")+"\\_geom\\_%")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var n string
				_ = rows.Scan(&n)
				names = append(names, n)
			}
			rows.Close()
			if len(names) < 3 {
				t.Fatalf("%s: geometry constraints %v, want valid, nonempty and domain", l.Table, names)
			}
			for _, n := range names {
				if _, err := pool.Exec(ctx, `ALTER TABLE `+l.QualifiedTable()+` DROP CONSTRAINT `+layers.QuoteIdent(n)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A copy of the layer's first row with the bad geometry (and a
		// fresh key where the layer has a unique one).
		var cols, vals []string
		for _, f := range l.Fields {
			cols = append(cols, layers.QuoteIdent(f.Name))
			v := "s." + layers.QuoteIdent(f.Name)
			if f.Unique {
				v = "left(s." + layers.QuoteIdent(f.Name) + ", length(s." + layers.QuoteIdent(f.Name) + ") - 5) || (90000 + (SELECT count(*) FROM " + l.QualifiedTable() + "))::text"
			}
			vals = append(vals, v)
		}
		sql := `INSERT INTO ` + l.QualifiedTable() + ` (` + strings.Join(cols, ", ") + `, geom) SELECT ` + strings.Join(vals, ", ") + `, ` + b.geom +
			` FROM ` + l.QualifiedTable() + ` s WHERE $1::float8 IS NOT NULL AND $2::float8 IS NOT NULL ORDER BY s.id LIMIT 1 RETURNING id`
		if err := pool.QueryRow(ctx, sql, hx, hy).Scan(&b.id); err != nil {
			t.Fatalf("insert %s %s: %v", l.ID, b.what, err)
		}
	}
	for _, b := range bad {
		var valid, empty bool
		if err := pool.QueryRow(ctx, `SELECT ST_IsValid(geom), ST_IsEmpty(geom) FROM `+b.layer.QualifiedTable()+` WHERE id = $1`, b.id).Scan(&valid, &empty); err != nil {
			t.Fatal(err)
		}
		if want := b.what == "bowtie" || b.what == "sliver" || b.what == "collapsed"; valid == want && !empty {
			t.Fatalf("%s %s stored valid=%v", b.layer.ID, b.what, valid)
		}
	}

	// Land use's coverage is its features (the default of a polygon
	// import): the check unions the features at the site, bow-tie included.
	if tag, err := pool.Exec(ctx, `UPDATE villageplan.layer_coverage SET geom = NULL, with_features = true WHERE layer = 'land_use'`); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("land-use coverage from its features: %v %v", tag, err)
	}

	ts := httptest.NewServer(withBearer(httpapi.New(httpapi.Options{Pool: pool, RateLimits: map[string]httpapi.RateLimit{"download": {}, "siting": {}}}),
		bearerFor(t, pool, "window", auth.Grant{Role: auth.TownshipWindow})))
	defer ts.Close()
	no5xx := func(path string) []byte {
		t.Helper()
		resp, b := fetch(t, "GET", ts.URL+path, nil)
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d %.300s", path, resp.StatusCode, b)
		}
		if resp.StatusCode != 200 {
			t.Logf("GET %s: %d %.300s", path, resp.StatusCode, b)
		}
		return b
	}

	// Siting checks: a 20 m square on the crossing of the bow-ties, and one
	// on the sliver's line only.
	site := func(x0, y0, size float64) string {
		x0, y0 = hx+x0, hy+y0
		return fmt.Sprintf(`{"crs":"EPSG:4551","site":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
			x0, y0, x0+size, y0, x0+size, y0+size, x0, y0+size, x0, y0)
	}
	id := func(layer *layers.Layer, what string) int64 {
		for _, b := range bad {
			if b.layer == layer && b.what == what {
				return b.id
			}
		}
		t.Fatalf("no %s %s", layer.ID, what)
		return 0
	}
	for name, body := range map[string]string{"bowtie": site(5, 5, 20), "sliver": site(10, 12, 6)} {
		code, res, hdr := post(t, ts.URL+"/siting/checks", "application/json", body)
		if code != 201 {
			t.Errorf("check at the %s: %d %v", name, code, res)
			continue
		}
		rules := map[string]map[string]any{}
		for _, r := range res["rules"].([]any) {
			rr := r.(map[string]any)
			rules[rr["code"].(string)] = rr
		}
		// Each rule reading a layer with an invalid feature at the site
		// names it and answers at least REVIEW.
		for rule, f := range map[string]int64{"permanent_farmland": id(layers.PermanentFarmland, name), "homestead_overlap": id(layers.Homesteads, name)} {
			rr := rules[rule]
			if rr == nil {
				t.Errorf("%s: no rule %s", name, rule)
				continue
			}
			msg := fmt.Sprint(rr["message_zh"], " ", rr["message_en"])
			if rr["outcome"] == "PASS" || !strings.Contains(msg, fmt.Sprint(f)) {
				t.Errorf("%s: rule %s = %s %q, want REVIEW or BLOCK naming feature %d", name, rule, rr["outcome"], msg, f)
			}
		}
		if name == "bowtie" {
			if rr := rules["permanent_farmland"]; rr["outcome"] != "BLOCK" {
				t.Errorf("bowtie: permanent_farmland = %s, want BLOCK (the repaired bow-tie covers the site)", rr["outcome"])
			}
		}
		no5xx(strings.TrimPrefix(hdr.Get("Location"), ts.URL))
		no5xx(strings.TrimPrefix(hdr.Get("Location"), ts.URL) + "/report")
	}

	// Pages, features, tiles and downloads of every layer with a bad row.
	var paths []string
	seen := map[string]bool{}
	for _, b := range bad {
		l := b.layer
		paths = append(paths, fmt.Sprintf("/collections/%s/items/%d", l.ID, b.id), fmt.Sprintf("/collections/%s/items/%d?f=html", l.ID, b.id),
			fmt.Sprintf("/collections/%s/items/%d?crs=%s", l.ID, b.id, "http://www.opengis.net/def/crs/EPSG/0/4551"))
		if seen[l.ID] {
			continue
		}
		seen[l.ID] = true
		lon, lat := 0.0, 0.0
		_ = pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1 + 15, $2 + 15), 4551), 4490) AS p) x`, hx, hy).Scan(&lon, &lat)
		near := fmt.Sprintf("bbox=%.6f,%.6f,%.6f,%.6f", lon-0.002, lat-0.002, lon+0.002, lat+0.002)
		paths = append(paths, "/collections/"+l.ID, "/collections/"+l.ID+"/items?limit=10000", "/collections/"+l.ID+"/items?f=html&limit=1000",
			"/collections/"+l.ID+"/items?"+near, "/collections/"+l.ID+"/items?f=html&"+near,
			"/collections/"+l.ID+"/items?crs=http://www.opengis.net/def/crs/EPSG/0/4551&"+near,
			"/collections/"+l.ID+"/items?bbox=179.8,43.5,180,43.8", "/collections/"+l.ID+"/items?bbox=179.8,43.5,180,43.8&f=html",
			"/collections/"+l.ID+"/items?bbox=179.8,43.5,180,43.8&crs=http://www.opengis.net/def/crs/EPSG/0/4551")
		for _, f := range []string{"geojson", "gpkg", "shp", "csv", "kml", "jzd", "csv&encoding=GBK", "shp&encoding=GBK", "csv&crs=http://www.opengis.net/def/crs/EPSG/0/4551"} {
			paths = append(paths, "/collections/"+l.ID+"/items?f="+f)
		}
		for z := 12; z <= 18; z += 2 {
			paths = append(paths, "/tiles/"+l.ID+"/"+tileAddr(lon, lat, z)+".mvt", "/tiles/map/"+tileAddr(lon, lat, z)+".mvt")
		}
		// The antimeridian feature's tiles, at both ends of the world.
		paths = append(paths, "/tiles/"+l.ID+"/0/0/0.mvt", "/tiles/"+l.ID+"/2/3/1.mvt", "/tiles/"+l.ID+"/2/0/1.mvt",
			"/tiles/"+l.ID+"/"+tileAddr(179.99, 43.65, 16)+".mvt", "/tiles/map/"+tileAddr(179.99, 43.65, 16)+".mvt",
			"/tiles/"+l.ID+"/"+tileAddr(-179.99, 43.65, 16)+".mvt")
	}
	// 界址点 TXT cannot hold an EMPTY parcel: the download says which one;
	// without it, the stray feature across the antimeridian does not move
	// the file out of the township's zone (42).
	empty := id(layers.Homesteads, "empty")
	if resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f=jzd", nil); resp.StatusCode != 400 || !strings.Contains(string(b), fmt.Sprintf("feature %d has an EMPTY geometry", empty)) {
		t.Errorf("jzd of a layer with an EMPTY feature: %d %.300s", resp.StatusCode, b)
	}
	if resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?f=jzd&encoding=UTF-8&bbox=125,43,180,44", nil); resp.StatusCode != 200 || !strings.Contains(string(b), "带号=42") {
		t.Errorf("jzd of the township and the antimeridian feature: %d %.300s", resp.StatusCode, b)
	}
	paths = append(paths, "/map/views/streetlight-coverage.geojson", "/map/villages?q=村", "/collections/villages/items?f=jzd")
	for _, p := range paths {
		body := no5xx(p)
		if strings.Contains(p, "/items/") && !strings.Contains(p, "f=html") {
			var f map[string]any
			if err := json.Unmarshal(body, &f); err != nil {
				t.Errorf("%s: not JSON: %v", p, err)
			}
		}
	}
}
