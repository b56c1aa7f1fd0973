package tiles_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
	"villageplan/data/testdata"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
	"villageplan/layers"
	"villageplan/tiles"
	"villageplan/tiles/tiletest"
)

// homesteadSpot returns the position of a homestead of the sample (the
// centroid of the lowest id), in degrees.
func homesteadSpot(t testing.TB, pool *pgxpool.Pool) (lon, lat float64) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY id LIMIT 1) s`).Scan(&lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	return lon, lat
}

// countInTile counts the features of a layer whose geometry intersects
// the tile with its buffer, with an optional extra SQL condition on t.
func countInTile(t *testing.T, pool *pgxpool.Pool, l *layers.Layer, a tiles.Address, cond string) int {
	t.Helper()
	q := fmt.Sprintf(`SELECT count(*) FROM %s t WHERE ST_Intersects(t.geom_3857, ST_TileEnvelope($1, $2, $3, margin => %g))`,
		l.QualifiedTable(), float64(tiles.Buffer)/tiles.Extent)
	if cond != "" {
		q += " AND " + cond
	}
	var n int
	if err := pool.QueryRow(context.Background(), q, a.Z, a.X, a.Y).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSampleTownshipTiles decodes real tiles of the sample township and
// checks layer names, feature counts against PostGIS, attribute values
// against the rows, the absence of personal data, validity of every
// decoded polygon and line, and agreement with GDAL's MVT driver.
func TestSampleTownshipTiles(t *testing.T) {
	pool := township(t)
	cat := layers.Default()
	s := newService(t, pool, cat, tiles.Options{})
	lon, lat := homesteadSpot(t, pool)
	homesteads, _ := cat.Layer("homesteads")

	// z16 homestead tile: every parcel touching the tile, with its
	// attributes.
	a16 := tileAt(lon, lat, 16)
	dec, tile := get(t, s, "homesteads", a16)
	if got := dec.Names(); len(got) != 1 || got[0] != "homesteads" {
		t.Fatalf("layers %v, want [homesteads]", got)
	}
	hl := dec.Layer("homesteads")
	if want := countInTile(t, pool, homesteads, a16, ""); len(hl.Features) != want || want == 0 {
		t.Errorf("z16 %s: %d homesteads, PostGIS finds %d touching the tile", a16, len(hl.Features), want)
	}
	checked := 0
	for _, f := range hl.Features {
		if !f.HasID || f.Type != tiletest.Polygon {
			t.Fatalf("feature without id or not a polygon: %+v", f)
		}
		for _, personal := range []string{"holder_name", "holder_id_number", "household_id"} {
			if _, ok := f.Properties[personal]; ok {
				t.Fatalf("personal field %s in a tile", personal)
			}
		}
		if checked < 20 {
			var (
				zddm, status, xzqdm string
				zdmj                *float64
				approved            *string
			)
			err := pool.QueryRow(context.Background(), `SELECT zddm, status, xzqdm, zdmj, approved_on::text FROM villageplan.homesteads WHERE id = $1`,
				int64(f.ID)).Scan(&zddm, &status, &xzqdm, &zdmj, &approved)
			if err != nil {
				t.Fatalf("feature id %d: %v", f.ID, err)
			}
			if f.Properties["zddm"] != zddm || f.Properties["status"] != status || f.Properties["xzqdm"] != xzqdm {
				t.Errorf("feature %d attributes %v, row zddm=%s status=%s xzqdm=%s", f.ID, f.Properties, zddm, status, xzqdm)
			}
			if zdmj != nil && f.Properties["zdmj"] != *zdmj {
				t.Errorf("feature %d zdmj = %v (%T), row %v", f.ID, f.Properties["zdmj"], f.Properties["zdmj"], *zdmj)
			}
			if approved != nil && f.Properties["approved_on"] != *approved {
				t.Errorf("feature %d approved_on = %v, row %v", f.ID, f.Properties["approved_on"], *approved)
			}
			checked++
		}
	}
	if n := checkValid(t, pool, dec); n != len(hl.Features) {
		t.Errorf("checked %d geometries", n)
	}
	if tile.RawSize == 0 || len(tile.Gzip()) >= tile.RawSize {
		t.Errorf("raw %d bytes, gzip %d", tile.RawSize, len(tile.Gzip()))
	}

	// z14 map tile: every layer visible at z14 that has data here, counts
	// as PostGIS sees them after the size filter of z14.
	a14 := tileAt(lon, lat, 14)
	dec, _ = get(t, s, tiles.MapTileset, a14)
	ts, _ := s.Tileset(tiles.MapTileset)
	var visible []string
	for _, l := range ts.LayersAt(14) {
		visible = append(visible, l.ID)
		if tiles.HasLabelPoints(l) {
			visible = append(visible, l.ID+tiles.LabelLayerSuffix)
		}
	}
	for _, name := range dec.Names() {
		if !contains(visible, name) {
			t.Errorf("layer %s in a z14 map tile; visible at z14: %v", name, visible)
		}
	}
	for _, want := range []string{"villages", "homesteads", "land_use", "roads"} {
		if dec.Layer(want) == nil {
			t.Errorf("z14 map tile %s lacks layer %s (has %v)", a14, want, dec.Names())
		}
	}
	g := tiles.GeneralisationAt(14)
	if got, want := len(dec.Layer("homesteads").Features), countInTile(t, pool, homesteads, a14, fmt.Sprintf("ST_Area(t.geom_3857) >= %g", g.MinArea)); got != want {
		t.Errorf("z14 map tile: %d homesteads, PostGIS %d", got, want)
	}
	villages, _ := cat.Layer("villages")
	if got, want := len(dec.Layer("villages").Features), countInTile(t, pool, villages, a14, ""); got != want {
		t.Errorf("z14 map tile: %d villages, PostGIS %d", got, want)
	}
	for _, f := range dec.Layer("villages").Features {
		if !strings.HasPrefix(fmt.Sprint(f.Properties["xzqdm"]), "220112203") || f.Properties["xzqmc"] == nil || f.Properties["czlx"] == nil {
			t.Errorf("village attributes %v", f.Properties)
		}
	}
	// Label points: one per village whose ST_PointOnSurface lies in this
	// tile, so a name is written once, not along every tile border.
	labels := 0
	if ll := dec.Layer("villages" + tiles.LabelLayerSuffix); ll != nil {
		labels = len(ll.Features)
		for _, f := range ll.Features {
			if f.Properties["xzqmc"] == nil || len(f.Properties) != 1 {
				t.Errorf("label point properties %v, want only xzqmc", f.Properties)
			}
		}
	}
	var wantLabels int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.villages
		WHERE ST_Intersects(ST_PointOnSurface(geom_3857), ST_TileEnvelope($1, $2, $3))`, a14.Z, a14.X, a14.Y).Scan(&wantLabels); err != nil {
		t.Fatal(err)
	}
	if labels != wantLabels || labels >= len(dec.Layer("villages").Features)+1 {
		t.Errorf("z14 map tile: %d village label points, PostGIS %d", labels, wantLabels)
	}
	for _, l := range dec.Layers {
		for _, f := range l.Features {
			for _, p := range []string{"holder_name", "holder_id_number", "household_id", "road_chief"} {
				if _, ok := f.Properties[p]; ok {
					t.Fatalf("field %s (personal or TileMinZoom -1) in layer %s", p, l.Name)
				}
			}
		}
	}
	n := checkValid(t, pool, dec)
	t.Logf("z14 map tile %s: layers %v, %d polygons/lines valid", a14, dec.Names(), n)

	// A second, independent decoder agrees on every layer.
	if tiletest.HaveOGR() {
		mt, err := s.Tile(context.Background(), ts, a14, tiles.Filter{}, "")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mt.Raw()
		if err != nil {
			t.Fatal(err)
		}
		ogr, err := tiletest.OGRLayers(t.TempDir(), raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range dec.Layers {
			if len(ogr[l.Name]) != len(l.Features) {
				t.Errorf("GDAL reads %d features in %s, Decode %d", len(ogr[l.Name]), l.Name, len(l.Features))
			}
		}
		if len(ogr) != len(dec.Layers) {
			t.Errorf("GDAL reads layers %v", keys(ogr))
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// testLayer declares a layer over a table made by the test.
func testLayer(id string, g layers.GeometryType, minZoom int) *layers.Layer {
	return &layers.Layer{ID: id, TitleZH: id, TitleEN: id, Table: id, Geometry: g, MinZoom: minZoom, MaxZoom: 22,
		Fields: []layers.Field{
			{Name: "name", TitleZH: "名称", TitleEN: "name", Type: layers.Text},
			{Name: "detail", TitleZH: "详情", TitleEN: "detail", Type: layers.Text, TileMinZoom: 15},
			{Name: "owner", TitleZH: "权利人", TitleEN: "owner", Type: layers.Text, Personal: true, TileMinZoom: -1},
		},
		Style: layers.Style{Kind: "fill", Color: "#888888"}}
}

// createLooseTable makes a layer table as someone else might have made it:
// an untyped geometry column (any type, Z/M allowed, NULL allowed, no
// validity check) in EPSG:4490 with the generated Web-Mercator copy.
func createLooseTable(t *testing.T, pool *pgxpool.Pool, name string) {
	exec(t, pool, fmt.Sprintf(`CREATE TABLE villageplan.%[1]s (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		name text, detail text, owner text,
		geom geometry,
		geom_3857 geometry GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED)`, name),
		fmt.Sprintf(`CREATE INDEX ON villageplan.%s USING gist (geom_3857)`, name))
}

// TestRobustness renders tiles over the inputs that broke other tile
// servers; each must give a valid tile, never an error.
func TestRobustness(t *testing.T) {
	pool := testpgNew(t)
	createLooseTable(t, pool, "robust")
	createLooseTable(t, pool, "nothing") // stays empty
	cat, err := layers.NewCatalog([]*layers.Layer{testLayer("robust", layers.MultiPolygon, 0), testLayer("nothing", layers.MultiPolygon, 0)})
	if err != nil {
		t.Fatal(err)
	}
	s := newService(t, pool, cat, tiles.Options{})

	// Work in the z16 tile at 125.76 E 43.60 N; its corners in degrees.
	a := tileAt(125.7605, 43.6005, 16)
	var x0, y0, x1, y1 float64
	if err := pool.QueryRow(context.Background(), `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform(ST_TileEnvelope($1, $2, $3), 4490)::box2d b) s`,
		a.Z, a.X, a.Y).Scan(&x0, &y0, &x1, &y1); err != nil {
		t.Fatal(err)
	}
	w, h := x1-x0, y1-y0
	at := func(fx, fy float64) string { return fmt.Sprintf("%.9f %.9f", x0+fx*w, y0+fy*h) }
	poly := func(pts ...[2]float64) string {
		var s []string
		for _, p := range pts {
			s = append(s, at(p[0], p[1]))
		}
		return strings.Join(s, ",")
	}
	cases := []struct{ name, wkt string }{
		// A C-shaped polygon around the tile: its bounding box covers the
		// tile, its area does not touch it — empty after clipping.
		{"empty-after-clip", "POLYGON((" + poly([2]float64{-1, -1}, [2]float64{2, -1}, [2]float64{2, -0.9}, [2]float64{-0.9, -0.9}, [2]float64{-0.9, 1.9}, [2]float64{2, 1.9}, [2]float64{2, 2}, [2]float64{-1, 2}, [2]float64{-1, -1}) + "))"},
		// A line whose bounding box covers the tile corner (and its buffer)
		// but which passes the corner 0.035 tile widths away.
		{"line-outside", "LINESTRING(" + at(-0.5, 0.45) + "," + at(0.45, -0.5) + ")"},
		// Self-intersecting bow-tie.
		{"bowtie", "POLYGON((" + poly([2]float64{0.1, 0.1}, [2]float64{0.4, 0.4}, [2]float64{0.4, 0.1}, [2]float64{0.1, 0.4}, [2]float64{0.1, 0.1}) + "))"},
		// Ring with a spike (self-touching).
		{"spike", "POLYGON((" + poly([2]float64{0.5, 0.1}, [2]float64{0.8, 0.1}, [2]float64{0.8, 0.3}, [2]float64{0.65, 0.3}, [2]float64{0.65, 0.45}, [2]float64{0.65, 0.3}, [2]float64{0.5, 0.3}, [2]float64{0.5, 0.1}) + "))"},
		// Hole outside its shell.
		{"hole-outside", "POLYGON((" + poly([2]float64{0.1, 0.5}, [2]float64{0.2, 0.5}, [2]float64{0.2, 0.6}, [2]float64{0.1, 0.6}, [2]float64{0.1, 0.5}) + "),(" + poly([2]float64{0.3, 0.5}, [2]float64{0.35, 0.5}, [2]float64{0.35, 0.55}, [2]float64{0.3, 0.5}) + "))"},
		// Z and M ordinates.
		{"z", "POLYGON Z((" + at(0.5, 0.5) + " 12," + at(0.6, 0.5) + " 12," + at(0.6, 0.6) + " 13," + at(0.5, 0.5) + " 12))"},
		{"zm", "POLYGON ZM((" + at(0.7, 0.5) + " 12 1," + at(0.8, 0.5) + " 12 2," + at(0.8, 0.6) + " 13 3," + at(0.7, 0.5) + " 12 4))"},
		// A thin polygon (1.5 tile units wide) with a hole: quantisation
		// flattens the hole onto the shell and can invert its winding.
		{"thin-with-hole", "POLYGON((" + poly([2]float64{0.1, 0.7}, [2]float64{0.9, 0.7}, [2]float64{0.9, 0.70037}, [2]float64{0.1, 0.70037}, [2]float64{0.1, 0.7}) + "),(" +
			poly([2]float64{0.3, 0.70009}, [2]float64{0.3, 0.70028}, [2]float64{0.7, 0.70028}, [2]float64{0.7, 0.70009}, [2]float64{0.3, 0.70009}) + "))"},
		// Smaller than one tile unit: collapses on the grid.
		{"collapses", "POLYGON((" + poly([2]float64{0.95, 0.95}, [2]float64{0.95001, 0.95}, [2]float64{0.95001, 0.95001}, [2]float64{0.95, 0.95}) + "))"},
		{"empty", "POLYGON EMPTY"},
		{"valid", "POLYGON((" + poly([2]float64{0.2, 0.8}, [2]float64{0.3, 0.8}, [2]float64{0.3, 0.9}, [2]float64{0.2, 0.9}, [2]float64{0.2, 0.8}) + "))"},
	}
	for _, c := range cases {
		exec(t, pool, fmt.Sprintf(`INSERT INTO villageplan.robust (name, detail, owner, geom) VALUES ('%s', 'd', '张三', ST_SetSRID(ST_GeomFromText('%s'), 4490))`, c.name, c.wkt))
	}
	exec(t, pool, `INSERT INTO villageplan.robust (name, geom) VALUES ('null', NULL)`)

	var invalid int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM villageplan.robust WHERE NOT ST_IsValid(geom)`).Scan(&invalid); err != nil {
		t.Fatal(err)
	}
	if invalid < 3 {
		t.Fatalf("only %d invalid polygons stored; the fixture is wrong", invalid)
	}

	for _, z := range []int{16, 17, 18, 20, 22} {
		for _, tsID := range []string{"robust", tiles.MapTileset} {
			// The tile at z that holds the fixture's lower-left area.
			b := tileAt(x0+0.25*w, y0+0.25*h, z)
			dec, _ := get(t, s, tsID, b)
			checkValid(t, pool, dec)
			if dec.Layer("nothing") != nil {
				t.Errorf("z%d %s: the empty layer is in the tile", z, tsID)
			}
		}
	}
	dec, _ := get(t, s, "robust", a)
	checkValid(t, pool, dec)
	names := map[string]bool{}
	for _, f := range dec.Layer("robust").Features {
		names[fmt.Sprint(f.Properties["name"])] = true
		if _, ok := f.Properties["owner"]; ok {
			t.Error("personal field in a tile")
		}
		if _, ok := f.Properties["detail"]; !ok {
			t.Error("field with TileMinZoom 15 missing at z16")
		}
	}
	for _, want := range []string{"bowtie", "spike", "hole-outside", "z", "zm", "thin-with-hole", "valid"} {
		if !names[want] {
			t.Errorf("feature %q missing from the tile (have %v)", want, keys(names))
		}
	}
	for _, absent := range []string{"empty-after-clip", "line-outside", "collapses", "empty", "null"} {
		if names[absent] {
			t.Errorf("feature %q should clip or collapse to nothing", absent)
		}
	}
	// z15: the field with TileMinZoom 15 is there, at z14 it is not.
	for z, want := range map[int]bool{14: false, 15: true} {
		dec, _ := get(t, s, "robust", tileAt(x0+0.25*w, y0+0.25*h, z))
		for _, f := range dec.Layer("robust").Features {
			if _, ok := f.Properties["detail"]; ok != want {
				t.Errorf("z%d: detail present = %v, want %v", z, ok, want)
			}
		}
	}

	// A layer stored in EPSG:4490 requested at z0–z3: nothing is
	// reprojected at request time; a world-spanning polygon and a polygon
	// near the pole render.
	exec(t, pool, `INSERT INTO villageplan.robust (name, geom) VALUES
		('world', ST_SetSRID('POLYGON((-179.9 -80, 179.9 -80, 179.9 80, -179.9 80, -179.9 -80))'::geometry, 4490)),
		('arctic', ST_SetSRID('POLYGON((10 84, 20 84, 20 85.05, 10 85.05, 10 84))'::geometry, 4490))`)
	for z := 0; z <= 3; z++ {
		n := 1 << z
		for x := 0; x < n; x++ {
			for y := 0; y < n; y++ {
				dec, _ := get(t, s, "robust", tiles.Address{Z: z, X: x, Y: y})
				checkValid(t, pool, dec)
				l := dec.Layer("robust")
				if l == nil {
					t.Fatalf("z%d/%d/%d: no features", z, x, y)
				}
				if z == 0 {
					got := map[string]bool{}
					for _, f := range l.Features {
						got[fmt.Sprint(f.Properties["name"])] = true
					}
					if !got["world"] || !got["arctic"] {
						t.Errorf("z0 tile lacks the world or arctic polygon: %v", keys(got))
					}
				}
			}
		}
	}

	// A tileset whose layers are all empty here: an empty tile.
	empty, _ := s.Tileset("nothing")
	tile, err := s.Tile(context.Background(), empty, a, tiles.Filter{}, "")
	if err != nil || !tile.Empty || tile.ETag == "" {
		t.Errorf("empty layer: %+v, %v; want an empty tile with an ETag", tile, err)
	}
}

// TestThinPolygonWinding: polygons with holes so thin that quantisation
// inverts the holes' winding come out as valid MVT polygons (exterior
// rings positive, holes negative) at every zoom where they collapse.
func TestThinPolygonWinding(t *testing.T) {
	pool := testpgNew(t)
	createLooseTable(t, pool, "thin")
	cat, _ := layers.NewCatalog([]*layers.Layer{testLayer("thin", layers.MultiPolygon, 0)})
	s := newService(t, pool, cat, tiles.Options{})
	// Many shells of decreasing width, each with a hole that nearly fills
	// it, at 125.76 E 43.60 N.
	exec(t, pool, `INSERT INTO villageplan.thin (name, geom)
		SELECT 'w' || i, ST_Transform(ST_MakePolygon(
			ST_ExteriorRing(ST_MakeEnvelope(x, 5405000, x + 300, 5405000 + w, 3857)),
			ARRAY[ST_Reverse(ST_ExteriorRing(ST_MakeEnvelope(x + 10, 5405000 + w * 0.2, x + 290, 5405000 + w * 0.8, 3857)))]), 4490)
		FROM generate_series(1, 40) i, LATERAL (SELECT 13999000 + i * 20.0 AS x, 0.02 * i AS w) p`)
	total := 0
	for z := 14; z <= 22; z++ {
		a := tiles.Address{}
		if err := pool.QueryRow(context.Background(), `SELECT $1::int, floor((13999500 + 20037508.342789244) / (40075016.68557849 / 2^$1))::int,
			floor((20037508.342789244 - 5405000.2) / (40075016.68557849 / 2^$1))::int`, z).Scan(&a.Z, &a.X, &a.Y); err != nil {
			t.Fatal(err)
		}
		dec, _ := get(t, s, "thin", a)
		total += checkValid(t, pool, dec)
	}
	if total == 0 {
		t.Fatal("no thin polygons rendered")
	}
}

// TestEditInvalidatesCachedTile: after a committed edit the next request
// gets the new tile and a new ETag; other layers' tiles stay cached.
func TestEditInvalidatesCachedTile(t *testing.T) {
	pool := township(t)
	s := newService(t, pool, layers.Default(), tiles.Options{})
	lon, lat := homesteadSpot(t, pool)
	a := tileAt(lon, lat, 16)
	ts, _ := s.Tileset("homesteads")
	mapTS, _ := s.Tileset(tiles.MapTileset)
	villages, _ := s.Tileset("villages")
	va := tileAt(lon, lat, 12)

	first := mustTile(t, s, ts, a, "")
	if first.Outcome != "miss" {
		t.Fatalf("first request: %s", first.Outcome)
	}
	again := mustTile(t, s, ts, a, "")
	if again.Outcome != "hit" || again.ETag != first.ETag {
		t.Fatalf("second request: %s %s, want a hit with the same ETag", again.Outcome, again.ETag)
	}
	if nm := mustTile(t, s, ts, a, first.ETag); !nm.NotModified {
		t.Fatal("If-None-Match with the current ETag: not 304")
	}
	mustTile(t, s, mapTS, a, "")
	mustTile(t, s, villages, va, "")

	// Edit one parcel of this tile.
	var id int64
	dec, _ := tiletest.Decode(first.Gzip())
	id = int64(dec.Layer("homesteads").Features[0].ID)
	exec(t, pool, fmt.Sprintf(`UPDATE villageplan.homesteads SET status = '闲置', zl = 'edited' WHERE id = %d`, id))

	// An edit by another process: visible once its NOTIFY has arrived
	// (requests in a tight loop from the commit on).
	after, took := waitNewETag(t, s, ts, a, first.ETag)
	t.Logf("edit by another connection visible %s (NOTIFY delivery)", took)
	if after.Outcome != "miss" {
		t.Errorf("after the edit: %s, want a fresh rendering", after.Outcome)
	}
	dec, _ = tiletest.Decode(after.Gzip())
	found := false
	for _, f := range dec.Layer("homesteads").Features {
		if int64(f.ID) == id {
			found = true
			if f.Properties["status"] != "闲置" || f.Properties["zl"] != "edited" {
				t.Errorf("edited parcel still shows %v", f.Properties)
			}
		}
	}
	if !found {
		t.Error("edited parcel missing")
	}
	if nm := mustTile(t, s, ts, a, first.ETag); nm.NotModified {
		t.Error("the old ETag still matches after the edit")
	}
	if m := mustTile(t, s, mapTS, a, ""); m.Outcome == "hit" {
		t.Error("the map tile holding the edited layer is still served from the cache")
	}
	if v := mustTile(t, s, villages, va, ""); v.Outcome != "hit" {
		t.Errorf("a villages tile was invalidated by a homesteads edit (%s)", v.Outcome)
	}

	// An edit by this process followed by Refresh: the very next request
	// has it, without waiting for the notification.
	for i := 0; i < 5; i++ {
		before := mustTile(t, s, ts, a, "")
		exec(t, pool, fmt.Sprintf(`UPDATE villageplan.homesteads SET zl = 'edit %d' WHERE id = %d`, i, id))
		if err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if next := mustTile(t, s, ts, a, ""); next.ETag == before.ETag {
			t.Fatalf("edit %d followed by Refresh: the next request got the old tile", i)
		}
	}
}

func mustTile(t *testing.T, s *tiles.Service, ts *tiles.Tileset, a tiles.Address, inm string) *tiles.Tile {
	t.Helper()
	tile, err := s.Tile(context.Background(), ts, a, tiles.Filter{}, inm)
	if err != nil {
		t.Fatal(err)
	}
	return tile
}

// waitNewETag requests the tile until its ETag differs from old. With the
// listener live the change arrives by NOTIFY, normally within a
// millisecond of the commit; the test allows 2 s and reports the time.
func waitNewETag(t *testing.T, s *tiles.Service, ts *tiles.Tileset, a tiles.Address, old string) (*tiles.Tile, string) {
	t.Helper()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		tile := mustTile(t, s, ts, a, "")
		if tile.ETag != old {
			return tile, fmt.Sprintf("on request %d, %s after the commit", attempt, time.Since(start).Round(time.Microsecond))
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("tile still has the ETag of before the edit after %s", time.Since(start))
		}
		if attempt > 1000 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// TestListenerLossFallsBackToVersionReads: when the LISTEN connection is
// killed, tiles are validated against layer_version on every request, so
// an edit made while nobody listens is visible on the very next request;
// the listener then reconnects and the service is live again.
func TestListenerLossFallsBackToVersionReads(t *testing.T) {
	pool := township(t)
	s := newService(t, pool, layers.Default(), tiles.Options{Heartbeat: time.Hour})
	lon, lat := homesteadSpot(t, pool)
	a := tileAt(lon, lat, 16)
	ts, _ := s.Tileset("homesteads")
	first := mustTile(t, s, ts, a, "")

	var killed int
	if err := pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'villageplan-tiles-listener' AND datname = current_database()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections: %v", killed, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Live() {
		if time.Now().After(deadline) {
			t.Fatal("service still live 5 s after its listener connection was killed")
		}
		time.Sleep(time.Millisecond)
	}
	// Nobody listens now. Hold the listener off by editing immediately;
	// the next request must see the edit without any notification.
	exec(t, pool, `UPDATE villageplan.homesteads SET zl = 'while-deaf' WHERE id = (SELECT min(id) FROM villageplan.homesteads)`)
	if !s.Live() {
		if got := mustTile(t, s, ts, a, ""); got.ETag == first.ETag {
			t.Fatal("stale tile served while the listener was down")
		}
	}
	waitLive(t, s)
	second := mustTile(t, s, ts, a, "")
	if second.ETag == first.ETag {
		t.Fatal("stale tile after the listener came back")
	}
	exec(t, pool, `UPDATE villageplan.homesteads SET zl = 'after-reconnect' WHERE id = (SELECT min(id) FROM villageplan.homesteads)`)
	_, took := waitNewETag(t, s, ts, a, second.ETag)
	t.Logf("after reconnecting, edit visible %s", took)
}

// TestConcurrentMissesShareOneQuery: many simultaneous requests for one
// uncached tile run one SQL statement.
func TestConcurrentMissesShareOneQuery(t *testing.T) {
	pool := township(t)
	s := newService(t, pool, layers.Default(), tiles.Options{})
	lon, lat := homesteadSpot(t, pool)
	ts, _ := s.Tileset(tiles.MapTileset)
	a := tileAt(lon, lat, 14)
	const n = 16
	outcomes := make(chan string, n)
	etags := make(chan string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			<-start
			tile, err := s.Tile(context.Background(), ts, a, tiles.Filter{}, "")
			if err != nil {
				outcomes <- err.Error()
				return
			}
			outcomes <- tile.Outcome
			etags <- tile.ETag
		}()
	}
	close(start)
	count := map[string]int{}
	for i := 0; i < n; i++ {
		count[<-outcomes]++
	}
	if count["miss"] != 1 || count["miss"]+count["shared"]+count["hit"] != n {
		t.Errorf("outcomes %v: want exactly one rendering", count)
	}
	first := <-etags
	for i := 1; i < n; i++ {
		if e := <-etags; e != first {
			t.Errorf("different ETags %s %s", e, first)
		}
	}
}

// TestAbandonedRequestCancelsQuery: when the only client of a slow tile
// goes away, its SQL statement stops on the server.
func TestAbandonedRequestCancelsQuery(t *testing.T) {
	pool := testpgNew(t)
	createLooseTable(t, pool, "slow_base")
	// A view that takes 3 s per row: a stand-in for an expensive tile.
	exec(t, pool,
		`CREATE FUNCTION villageplan.slowly(g geometry) RETURNS geometry LANGUAGE sql VOLATILE AS $$ SELECT pg_sleep(3); SELECT g $$`,
		`INSERT INTO villageplan.slow_base (name, geom) VALUES ('a', ST_SetSRID('POINT(125.76 43.60)'::geometry, 4490))`,
		`CREATE VIEW villageplan.slow AS SELECT id, name, detail, owner, geom, villageplan.slowly(geom_3857) AS geom_3857 FROM villageplan.slow_base`)
	l := testLayer("slow", layers.Point, 0)
	cat, _ := layers.NewCatalog([]*layers.Layer{l})
	s := newService(t, pool, cat, tiles.Options{})
	ts, _ := s.Tileset("slow")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Tile(ctx, ts, tileAt(125.76, 43.60, 16), tiles.Filter{}, "")
		errc <- err
	}()
	running := func() int {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state = 'active' AND query LIKE '%ST_AsMVT%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(2 * time.Second)
	for running() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("tile query never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned request returned %v", err)
	}
	deadline = time.Now().Add(1 * time.Second)
	for running() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("tile query still running 1 s after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOversizeTileIsReduced: a tile over the size limit is rendered again
// with fewer features, the largest kept, and fits.
func TestOversizeTileIsReduced(t *testing.T) {
	pool := testpgNew(t)
	createLooseTable(t, pool, "dense")
	// 6 000 squares of varied size with incompressible names, in about
	// 450 m × 450 m at 125.76 E 43.60 N.
	exec(t, pool, `INSERT INTO villageplan.dense (name, geom)
		SELECT md5(i::text) || md5((i * 7)::text), ST_Transform(ST_MakeEnvelope(x, y, x + s, y + s, 3857), 4490)
		FROM generate_series(0, 5999) i,
		LATERAL (SELECT 13999000 + (i % 80) * 5.6 AS x, 5405000 + (i / 80) * 5.6 AS y, 1 + (i * 37 % 97) * 0.04 AS s) p`)
	cat, _ := layers.NewCatalog([]*layers.Layer{testLayer("dense", layers.MultiPolygon, 0)})
	const limit = 64 * 1000
	s := newService(t, pool, cat, tiles.Options{MaxTileBytes: limit})
	for _, z := range []int{15, 17} { // one generalised zoom, one detail zoom
		var a tiles.Address
		if err := pool.QueryRow(context.Background(), `SELECT $1::int, floor((13999200 + 20037508.342789244) / (40075016.68557849 / 2^$1))::int,
			floor((20037508.342789244 - 5405200) / (40075016.68557849 / 2^$1))::int`, z).Scan(&a.Z, &a.X, &a.Y); err != nil {
			t.Fatal(err)
		}
		dec, tile := get(t, s, "dense", a)
		l := dec.Layer("dense")
		total := countInTile(t, pool, cat.Layers()[0], a, "")
		t.Logf("z%d: %d of %d features, %d bytes gzip (limit %d)", z, len(l.Features), total, len(tile.Gzip()), limit)
		if len(tile.Gzip()) > limit {
			t.Fatalf("z%d: tile of %d bytes over the limit %d", z, len(tile.Gzip()), limit)
		}
		if len(l.Features) >= total || len(l.Features) < total/20 {
			t.Fatalf("z%d: %d of %d features kept; the fixture should need reducing, not emptying", z, len(l.Features), total)
		}
		// The kept features are the largest.
		var smallestKept, largestDropped float64
		kept := map[int64]bool{}
		for _, f := range l.Features {
			kept[int64(f.ID)] = true
		}
		ids := make([]int64, 0, len(kept))
		for id := range kept {
			ids = append(ids, id)
		}
		if err := pool.QueryRow(context.Background(), `SELECT
			(SELECT min(ST_Area(geom_3857)) FROM villageplan.dense WHERE id = ANY($1)),
			(SELECT max(ST_Area(geom_3857)) FROM villageplan.dense WHERE NOT id = ANY($1) AND ST_Intersects(geom_3857, ST_TileEnvelope($2, $3, $4)))`,
			ids, a.Z, a.X, a.Y).Scan(&smallestKept, &largestDropped); err != nil {
			t.Fatal(err)
		}
		if smallestKept < largestDropped-1e-6 {
			t.Errorf("z%d: a %.2f m² square was dropped while a %.2f m² one was kept", z, largestDropped, smallestKept)
		}
		checkValid(t, pool, dec)
	}
}

// testpgNew is a fresh migrated database without the sample data.
func testpgNew(t *testing.T) *pgxpool.Pool { return testpg.New(t) }

// osmDerived holds the real OpenStreetMap extracts (ODbL), relative to
// data/testdata/real (SOURCES.md §4 there).
const osmDerived = "osm/derived/"

// TestRealOSMData imports real OpenStreetMap geometry into the layer
// tables — 4 267 building footprints as homesteads, 2 056 roads, 390
// agricultural land-use areas, 38 street lamps — and checks tiles over
// them at z12–z18: strict decoding, validity, counts against PostGIS, and
// GDAL's reading of the same tile.
func TestRealOSMData(t *testing.T) {
	pool := testpgNew(t)
	load := func(file, sql string) int64 {
		b, err := os.ReadFile(testdata.Real(t, osmDerived+file))
		if err != nil {
			t.Fatal(err)
		}
		tag, err := pool.Exec(context.Background(), sql, string(b))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return tag.RowsAffected()
	}
	const feats = `FROM jsonb_array_elements($1::jsonb->'features') f`
	const geom = `ST_SetSRID(ST_GeomFromGeoJSON(f->>'geometry'), 4490)`
	n := load("north-bayreuth_buildings.geojson", `INSERT INTO villageplan.homesteads (zddm, xzqdm, status, zl, geom)
		SELECT 'OSM' || coalesce(f->'properties'->>'osm_way_id', f->'properties'->>'osm_id'), '000000000000', '已登记', f->'properties'->>'name', ST_Multi(`+geom+`) `+feats)
	n += load("north-bayreuth_roads.geojson", `INSERT INTO villageplan.roads (lxmc, admin_grade, geom)
		SELECT f->'properties'->>'name', '村道', ST_Multi(`+geom+`) `+feats)
	n += load("north-bayreuth_landuse_agri.geojson", `INSERT INTO villageplan.land_use (dlbm, dlmc, geom)
		SELECT '0103', f->'properties'->>'landuse', ST_Multi(`+geom+`) `+feats)
	n += load("heidelberg_street_lamps.geojson", `INSERT INTO villageplan.streetlights (pole_id, status, geom)
		SELECT f->'properties'->>'osm_id', '正常', `+geom+` `+feats)
	if n != 4267+2056+390+38 {
		t.Fatalf("imported %d features", n)
	}
	cat := layers.Default()
	s := newService(t, pool, cat, tiles.Options{})
	homesteads, _ := cat.Layer("homesteads")
	roads, _ := cat.Layer("roads")
	lights, _ := cat.Layer("streetlights")
	polygons := 0
	for z := 12; z <= 18; z++ {
		// Around Bayreuth's Dreifaltigkeitskirche, in the densest part.
		c := tileAt(11.5995, 49.9775, z)
		for _, a := range []tiles.Address{c, {Z: z, X: c.X + 1, Y: c.Y}, {Z: z, X: c.X, Y: c.Y + 1}} {
			dec, _ := get(t, s, tiles.MapTileset, a)
			polygons += checkValid(t, pool, dec)
			g := tiles.GeneralisationAt(z)
			hcond, rcond := "", ""
			if z < tiles.DetailZoom {
				hcond = fmt.Sprintf("ST_Area(t.geom_3857) >= %g", g.MinArea)
				rcond = fmt.Sprintf("ST_Length(t.geom_3857) >= %g", g.MinLength)
			}
			if z >= homesteads.MinZoom {
				got := 0
				if l := dec.Layer("homesteads"); l != nil {
					got = len(l.Features)
				}
				if want := countInTile(t, pool, homesteads, a, hcond); !near(got, want, z) {
					t.Errorf("z%d %s: %d buildings, PostGIS %d", z, a, got, want)
				}
			}
			got := 0
			if l := dec.Layer("roads"); l != nil {
				got = len(l.Features)
			}
			if want := countInTile(t, pool, roads, a, rcond); !near(got, want, z) {
				t.Errorf("z%d %s: %d roads, PostGIS %d", z, a, got, want)
			}
		}
	}
	// Street lamps in Heidelberg: all of them from z16, thinned (never
	// more, some) below.
	for z := 14; z <= 18; z++ {
		a := tileAt(8.7118675, 49.4118089, z)
		dec, _ := get(t, s, "streetlights", a)
		got := len(dec.Layer("streetlights").Features)
		want := countInTile(t, pool, lights, a, "")
		if (z >= tiles.DetailZoom && got != want) || got > want || got == 0 {
			t.Errorf("z%d: %d street lamps, PostGIS %d", z, got, want)
		}
	}
	if polygons < 1000 {
		t.Errorf("only %d polygons and lines checked", polygons)
	}
	// GDAL reads the z15 map tile as Decode does.
	if tiletest.HaveOGR() {
		ts, _ := s.Tileset(tiles.MapTileset)
		tile := mustTile(t, s, ts, tileAt(11.5995, 49.9775, 15), "")
		raw, _ := tile.Raw()
		dec, _ := tiletest.Decode(raw)
		ogr, err := tiletest.OGRLayers(t.TempDir(), raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range dec.Layers {
			if len(ogr[l.Name]) != len(l.Features) {
				t.Errorf("GDAL reads %d %s, Decode %d", len(ogr[l.Name]), l.Name, len(l.Features))
			}
		}
	}
	t.Logf("%d real polygons and lines decoded valid", polygons)
}

// near compares a decoded feature count with PostGIS's count of features
// touching the buffered tile: equal from DetailZoom on; below it
// simplification may move a feature that only grazes the buffer edge out
// of the tile or into it, so 1 % (at least one feature) may differ.
func near(got, want, z int) bool {
	if z >= tiles.DetailZoom {
		return got == want
	}
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= max(1, want/100)
}

// TestTileStatementsArePrepared: the tile SQL runs as a prepared statement
// in a session without parallel plans.
func TestTileStatementsArePrepared(t *testing.T) {
	ctx := context.Background()
	pool, err := db.Open(ctx, testpg.NewDatabase(t), 1) // one connection: the tile's session
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := newService(t, pool, layers.Default(), tiles.Options{CacheBytes: -1})
	ts, _ := s.Tileset(tiles.MapTileset)
	for i := 0; i < 3; i++ {
		mustTile(t, s, ts, tileAt(125.76, 43.60, 14), "")
	}
	var prepared int
	var parallel string
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%ST_AsMVT(q, ''villages''%'),
		current_setting('max_parallel_workers_per_gather')`).Scan(&prepared, &parallel); err != nil {
		t.Fatal(err)
	}
	if prepared != 1 || parallel != "0" {
		t.Errorf("%d prepared tile statements, max_parallel_workers_per_gather = %s; want 1 and 0", prepared, parallel)
	}
}
