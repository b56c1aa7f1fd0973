package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// gkLine is a line in EPSG:4551 in its axis order (northing, easting).
func gkLine(pts ...[2]float64) string {
	s := `{"type":"LineString","coordinates":[`
	for i, p := range pts {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("[%g,%g]", p[1], p[0])
	}
	return s + "]}"
}

// TestSplit: POST …/items/{fid}/split cuts a homestead and a road with
// ST_Split as one changeset: the larger part keeps the id and attributes,
// the other is a new feature with the attributes copied (not the personal
// ones, not the unique key, which the request gives); areas and lengths
// on the Gauss-Krüger plane add up; If-Match, a line that does not cross,
// a point layer, rights and the topology rules are checked; a reviewed
// layer's split is proposed (202).
func TestSplit(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var hid int64
	if err := pool.QueryRow(ctx, `SELECT id FROM villageplan.homesteads WHERE zddm = '220112203300JC00001'`).Scan(&hid); err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("%s/collections/homesteads/items/%d/split", ts.URL, hid)
	// Homestead 1 is 480630–480650 E × 4829000–4829028 N; cut at 480645.
	blade := gkLine([2]float64{480645, 4828990}, [2]float64{480645, 4829040})
	tag := etagOf(t, ts, "homesteads", hid)

	if resp, m := call(t, "editor", "POST", u, "application/geo+json", blade, "Content-Crs", epsg4551); resp.StatusCode != 428 {
		t.Errorf("split without If-Match = %d %v, want 428", resp.StatusCode, m)
	}
	if resp, m := call(t, "", "POST", u, "application/geo+json", blade, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 401 {
		t.Errorf("anonymous split = %d %v, want 401", resp.StatusCode, m)
	}
	if resp, m := call(t, "analyst", "POST", u, "application/geo+json", blade, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 403 {
		t.Errorf("data analyst's split = %d %v, want 403", resp.StatusCode, m)
	}
	// The new part would copy no 宗地代码 (unique) and the layer needs one.
	resp, m := call(t, "editor", "POST", u, "application/geo+json", blade, "Content-Crs", epsg4551, "If-Match", tag)
	if resp.StatusCode != 422 || m["field"] != "zddm" {
		t.Errorf("split without the new part's 宗地代码 = %d %v, want 422 naming zddm", resp.StatusCode, m)
	}
	// A line that does not cross the parcel.
	miss := gkLine([2]float64{480700, 4828990}, [2]float64{480700, 4829040})
	if resp, m := call(t, "editor", "POST", u, "application/geo+json", miss, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 422 || m["field"] != "geometry" {
		t.Errorf("split by a line beside the parcel = %d %v, want 422 on geometry", resp.StatusCode, m)
	}
	// A line that ends inside it.
	half := gkLine([2]float64{480645, 4828990}, [2]float64{480645, 4829010})
	if resp, m := call(t, "editor", "POST", u, "application/geo+json", half, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 422 {
		t.Errorf("split by a line ending inside = %d %v, want 422", resp.StatusCode, m)
	}
	if resp, m := call(t, "editor", "POST", u, "application/geo+json", `{"type":"Point","coordinates":[4829000,480640]}`, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 422 {
		t.Errorf("split by a point = %d %v, want 422", resp.StatusCode, m)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.homesteads`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("refused splits wrote something: %d homesteads (%v)", n, err)
	}

	body := `{"type":"Feature","geometry":` + blade + `,"properties":{"zddm":"220112203300JC00091"}}`
	resp, m = call(t, "editor", "POST", u+"?message=分户切分", "application/geo+json", body, "Content-Crs", epsg4551, "If-Match", tag)
	if resp.StatusCode != 201 {
		t.Fatalf("split = %d %v", resp.StatusCode, m)
	}
	fs, _ := m["features"].([]any)
	if len(fs) != 2 {
		t.Fatalf("split wrote %v, want the original and one new part", m["features"])
	}
	first, second := fs[0].(map[string]any), fs[1].(map[string]any)
	if first["op"] != "patch" || int64(first["feature_id"].(float64)) != hid || second["op"] != "create" {
		t.Errorf("split features %v: want a patch of %d and a create", fs, hid)
	}
	nid := int64(second["feature_id"].(float64))
	type part struct {
		zddm, xzqdm, zl, status string
		holder                  *string
		area                    float64
	}
	read := func(id int64) part {
		var p part
		var zddm *string
		if err := pool.QueryRow(ctx, `SELECT zddm, xzqdm, zl, status, holder_name, ST_Area(ST_Transform(geom, 4551)) FROM villageplan.homesteads WHERE id = $1`, id).
			Scan(&zddm, &p.xzqdm, &p.zl, &p.status, &p.holder, &p.area); err != nil {
			t.Fatalf("homestead %d: %v", id, err)
		}
		if zddm != nil {
			p.zddm = *zddm
		}
		return p
	}
	orig, nw := read(hid), read(nid)
	if math.Abs(orig.area-15*28) > 0.01 || math.Abs(nw.area-5*28) > 0.01 {
		t.Errorf("parts %.3f m² (id %d) and %.3f m² (id %d), want 420 (the original keeps the larger) and 140", orig.area, hid, nw.area, nid)
	}
	if orig.zddm != "220112203300JC00001" || orig.holder == nil || *orig.holder != "马1" {
		t.Errorf("the original part lost its attributes: %+v", orig)
	}
	if nw.zddm != "220112203300JC00091" || nw.xzqdm != orig.xzqdm || nw.zl != orig.zl || nw.status != orig.status {
		t.Errorf("new part %+v: want the original's attributes and the given 宗地代码", nw)
	}
	if nw.holder != nil {
		t.Errorf("the new part copied the personal field holder_name %q", *nw.holder)
	}
	// One changeset with the message; both changes in it.
	var cs int64
	var msg string
	var changes int
	if err := pool.QueryRow(ctx, `SELECT c.id, c.message, (SELECT count(*) FROM villageplan.edit_history h WHERE h.changeset_id = c.id)
		FROM villageplan.changesets c ORDER BY c.id DESC LIMIT 1`).Scan(&cs, &msg, &changes); err != nil {
		t.Fatal(err)
	}
	if msg != "分户切分" || changes != 2 {
		t.Errorf("changeset %d: message %q with %d history rows, want 分户切分 and 2", cs, msg, changes)
	}
	// The old ETag is stale now.
	if resp, m := call(t, "editor", "POST", u, "application/geo+json", body, "Content-Crs", epsg4551, "If-Match", tag); resp.StatusCode != 412 {
		t.Errorf("split with a stale If-Match = %d %v, want 412", resp.StatusCode, m)
	}

	// A road (a line layer), blade in CRS84: 30 m and 70 m.
	var rid int64
	var cut [2][2]float64
	if err := pool.QueryRow(ctx, `SELECT id, ST_X(a), ST_Y(a), ST_X(b), ST_Y(b) FROM villageplan.roads,
		LATERAL (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(480630, 4828980), 4551), 4490) a, ST_Transform(ST_SetSRID(ST_MakePoint(480630, 4829000), 4551), 4490) b) p
		WHERE lxbm = 'C001'`).Scan(&rid, &cut[0][0], &cut[0][1], &cut[1][0], &cut[1][1]); err != nil {
		t.Fatal(err)
	}
	ru := fmt.Sprintf("%s/collections/roads/items/%d/split", ts.URL, rid)
	rblade := fmt.Sprintf(`{"type":"LineString","coordinates":[[%.10f,%.10f],[%.10f,%.10f]]}`, cut[0][0], cut[0][1], cut[1][0], cut[1][1])
	resp, m = call(t, "editor", "POST", ru, "application/json", rblade, "If-Match", etagOf(t, ts, "roads", rid))
	if resp.StatusCode != 201 {
		t.Fatalf("road split = %d %v", resp.StatusCode, m)
	}
	rows, err := pool.Query(ctx, `SELECT id, lxbm, admin_grade, ST_Length(ST_Transform(geom, 4551)) FROM villageplan.roads ORDER BY 4 DESC`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int64
		var lx, grade string
		var l float64
		if err := rows.Scan(&id, &lx, &grade, &l); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v %s %s %.2f", id == rid, lx, grade, l))
	}
	if fmt.Sprint(got) != "[true C001 村道 70.00 false C001 村道 30.00]" {
		t.Errorf("roads after the split %q, want the original 70 m and a new 30 m part with its attributes", got)
	}

	// A point layer cannot be split.
	var lid int64
	if err := pool.QueryRow(ctx, `SELECT id FROM villageplan.streetlights LIMIT 1`).Scan(&lid); err != nil {
		t.Fatal(err)
	}
	if resp, m := call(t, "editor", "POST", fmt.Sprintf("%s/collections/streetlights/items/%d/split", ts.URL, lid), "application/json", rblade,
		"If-Match", etagOf(t, ts, "streetlights", lid)); resp.StatusCode != 422 {
		t.Errorf("streetlight split = %d %v, want 422", resp.StatusCode, m)
	}

	// Topology still holds: a parcel stored over permanent farmland (as
	// an old import could leave it) cannot be split into parts that
	// overlap it; nothing is written.
	var bad int64
	if err := pool.QueryRow(ctx, `INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom)
		VALUES ('220112203300JC00077', '220112203300', '压占', '已登记', ST_Multi(ST_Transform(ST_MakeEnvelope(480690, 4829010, 480710, 4829030, 4551), 4490))) RETURNING id`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	body = `{"type":"Feature","geometry":` + gkLine([2]float64{480705, 4829000}, [2]float64{480705, 4829040}) + `,"properties":{"zddm":"220112203300JC00078"}}`
	resp, m = call(t, "editor", "POST", fmt.Sprintf("%s/collections/homesteads/items/%d/split", ts.URL, bad), "application/geo+json", body,
		"Content-Crs", epsg4551, "If-Match", etagOf(t, ts, "homesteads", bad))
	if resp.StatusCode != 409 || m["code"] != "TopologyViolation" {
		t.Errorf("split of a parcel on farmland = %d %v, want 409 TopologyViolation", resp.StatusCode, m)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.homesteads WHERE zddm IN ('220112203300JC00077', '220112203300JC00078')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the refused split left %d parcels (%v), want the one unchanged", n, err)
	}

	// 永久基本农田 is reviewed: the split is proposed, nothing written yet.
	var fid int64
	if err := pool.QueryRow(ctx, `SELECT id FROM villageplan.permanent_farmland LIMIT 1`).Scan(&fid); err != nil {
		t.Fatal(err)
	}
	body = `{"type":"Feature","geometry":` + gkLine([2]float64{480750, 4828990}, [2]float64{480750, 4829110}) + `,"properties":{"yjjbnttbbh":"2201122033000002"}}`
	resp, m = call(t, "editor", "POST", fmt.Sprintf("%s/collections/permanent_farmland/items/%d/split", ts.URL, fid), "application/geo+json", body,
		"Content-Crs", epsg4551, "If-Match", etagOf(t, ts, "permanent_farmland", fid))
	if resp.StatusCode != 202 || m["state"] != "proposed" {
		t.Errorf("farmland split = %d %v, want 202 proposed", resp.StatusCode, m)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.permanent_farmland`).Scan(&n); err != nil || n != 1 {
		t.Errorf("a proposed split wrote the layer: %d farmland parcels (%v)", n, err)
	}
}
