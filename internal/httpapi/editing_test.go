package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// tokenAuth is the test double of the accounts Authenticator: a bearer
// token names a principal. An unknown token is a 401, none is anonymous.
type tokenAuth map[string]*auth.Principal

func (a tokenAuth) Authenticate(r *http.Request) (*auth.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	if p, ok := a[strings.TrimPrefix(h, "Bearer ")]; ok {
		return p, nil
	}
	return nil, &auth.Error{Status: 401, Code: "Unauthorized", ZH: "令牌无效", EN: "invalid token"}
}

var editUsers = tokenAuth{
	"editor":   {UserID: 1, Username: "li_editor", Grants: []auth.Grant{{Role: auth.PlanningEditor}}},
	"editor2":  {UserID: 2, Username: "wang_editor", Grants: []auth.Grant{{Role: auth.PlanningEditor}}},
	"approver": {UserID: 3, Username: "zhao_approver", Grants: []auth.Grant{{Role: auth.TownshipApprover}}},
	"analyst":  {UserID: 4, Username: "sun_analyst", Grants: []auth.Grant{{Role: auth.DataAnalyst}}},
	"village":  {UserID: 5, Username: "qian_village", Grants: []auth.Grant{{Role: auth.PlanningEditor, Village: "220112203301"}}},
}

// editFixture: a test database with two homesteads (20 m × 28 m, EPSG:4551
// squares near 125.76°E 43.60°N), one permanent-farmland parcel east of
// them, a road and a streetlight, and a server with the test users.
func editFixture(t *testing.T) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := testpg.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, holder_name, geom)
		SELECT '220112203300JC0000' || i, '220112203300', '大营村' || i || '号', '已登记', '马' || i,
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480600 + i * 30, 4829000, 480620 + i * 30, 4829028, 4551), 4490))
		FROM generate_series(1, 2) i;
		INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom)
		VALUES ('2201122033000001', '0103', ST_Multi(ST_Transform(ST_MakeEnvelope(480700, 4829000, 480800, 4829100, 4551), 4490)));
		INSERT INTO villageplan.roads (lxbm, admin_grade, geom)
		VALUES ('C001', '村道', ST_Multi(ST_Transform(ST_GeomFromText('LINESTRING(480600 4828990, 480700 4828990)', 4551), 4490)));
		INSERT INTO villageplan.streetlights (pole_id, status, geom)
		VALUES ('DY-001', '正常', ST_Transform(ST_SetSRID(ST_MakePoint(480610, 4828995), 4551), 4490));`)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers,
		RateLimits: map[string]httpapi.RateLimit{"write": {}}})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts, pool
}

// call sends body (a string or any JSON value) as the user of token.
func call(t *testing.T, token, method, u, ctype string, body any, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %s", method, u, resp.StatusCode, raw)
		}
	}
	return resp, m
}

// etagOf reads a feature and returns its ETag.
func etagOf(t *testing.T, ts *httptest.Server, layer string, id int64) string {
	t.Helper()
	resp, b := fetch(t, "GET", fmt.Sprintf("%s/collections/%s/items/%d", ts.URL, layer, id), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s/%d = %d %s", layer, id, resp.StatusCode, b)
	}
	tag := resp.Header.Get("ETag")
	if tag == "" || strings.HasPrefix(tag, "W/") {
		t.Fatalf("GET %s/%d: ETag %q, want a strong ETag", layer, id, tag)
	}
	return tag
}

// gkSquare is a square in EPSG:4551 in its axis order (northing, easting).
func gkSq(east, north, size float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[2]g,%[1]g],[%[2]g,%[3]g],[%[4]g,%[3]g],[%[4]g,%[1]g],[%[2]g,%[1]g]]]}`,
		east, north, east+size, north+size)
}

const epsg4551 = "<http://www.opengis.net/def/crs/EPSG/0/4551>"

func TestEditCreateReplacePatchDeleteHomestead(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	feature := `{"type":"Feature","properties":{"zddm":"220112203300JC00009","xzqdm":"220112203300","status":"已批准","zdmj":560},
		"geometry":` + gkSq(480500, 4829000, 20) + `}`
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", feature, "Content-Crs", epsg4551)
	if resp.StatusCode != 201 {
		t.Fatalf("create = %d %v", resp.StatusCode, m)
	}
	loc := resp.Header.Get("Location")
	if !strings.Contains(loc, "/collections/homesteads/items/") || resp.Header.Get("ETag") == "" {
		t.Fatalf("create: Location %q ETag %q", loc, resp.Header.Get("ETag"))
	}
	var id int64
	var area float64
	var actor string
	var cs *int64
	if err := pool.QueryRow(ctx, `SELECT h.id, ST_Area(ST_Transform(h.geom, 4551)), e.actor, e.changeset_id FROM villageplan.homesteads h
		JOIN villageplan.edit_history e ON e.layer = 'homesteads' AND e.feature_id = h.id AND e.action = 'insert'
		WHERE h.zddm = '220112203300JC00009'`).Scan(&id, &area, &actor, &cs); err != nil {
		t.Fatal(err)
	}
	if loc != fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, id) || area < 399.9 || area > 400.1 || actor != "li_editor" || cs == nil {
		t.Fatalf("stored: id %d (Location %s), area %.3f m² (want 400), actor %q, changeset %v", id, loc, area, actor, cs)
	}
	tag := etagOf(t, ts, "homesteads", id)
	if tag != resp.Header.Get("ETag") {
		t.Errorf("GET ETag %s differs from the create's %s", tag, resp.Header.Get("ETag"))
	}

	// Patch: one property, personal data kept.
	resp, m = call(t, "editor", "PATCH", fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, id), "application/merge-patch+json",
		`{"properties":{"status":"在建","zl":"大营村9号"}}`, "If-Match", tag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag {
		t.Fatalf("patch = %d %v (ETag %s → %s)", resp.StatusCode, m, tag, resp.Header.Get("ETag"))
	}
	tag2 := resp.Header.Get("ETag")
	var status, zl string
	var zdmj float64
	pool.QueryRow(ctx, `SELECT status, zl, zdmj FROM villageplan.homesteads WHERE id = $1`, id).Scan(&status, &zl, &zdmj)
	if status != "在建" || zl != "大营村9号" || zdmj != 560 {
		t.Fatalf("after patch: %s %s %g", status, zl, zdmj)
	}
	// Replace with the old ETag: 412, nothing changes.
	replaced := `{"type":"Feature","properties":{"zddm":"220112203300JC00009","xzqdm":"220112203300","status":"已登记"},"geometry":` +
		gkSq(480500, 4829000, 18) + `}`
	u := fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, id)
	resp, m = call(t, "editor2", "PUT", u, "application/geo+json", replaced, "If-Match", tag, "Content-Crs", epsg4551)
	if resp.StatusCode != 412 || resp.Header.Get("ETag") != tag2 || m["current_etag"] != tag2 {
		t.Fatalf("stale replace = %d %v, want 412 with the current ETag %s", resp.StatusCode, m, tag2)
	}
	resp, m = call(t, "editor2", "PUT", u, "application/geo+json", replaced, "Content-Crs", epsg4551)
	if resp.StatusCode != 428 || m["code"] != "PreconditionRequired" {
		t.Fatalf("replace without If-Match = %d %v, want 428", resp.StatusCode, m)
	}
	resp, m = call(t, "editor2", "PUT", u, "application/geo+json", replaced, "If-Match", tag2, "Content-Crs", epsg4551)
	if resp.StatusCode != 200 {
		t.Fatalf("replace = %d %v", resp.StatusCode, m)
	}
	pool.QueryRow(ctx, `SELECT status, coalesce(zl, '-'), coalesce(zdmj, -1), ST_Area(ST_Transform(geom, 4551)) FROM villageplan.homesteads WHERE id = $1`, id).Scan(&status, &zl, &zdmj, &area)
	if status != "已登记" || zl != "-" || zdmj != -1 || area < 323.9 || area > 324.1 {
		t.Fatalf("after replace: %s %s %g %.2f", status, zl, zdmj, area)
	}
	// Delete.
	tag3 := resp.Header.Get("ETag")
	resp, m = call(t, "editor2", "DELETE", u, "", nil, "If-Match", tag3)
	if resp.StatusCode != 204 {
		t.Fatalf("delete = %d %v", resp.StatusCode, m)
	}
	if resp, _ := fetch(t, "GET", u, nil); resp.StatusCode != 404 {
		t.Fatalf("deleted feature = %d", resp.StatusCode)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.edit_history WHERE layer = 'homesteads' AND feature_id = $1 AND changeset_id IS NOT NULL`, id).Scan(&n)
	if n != 4 {
		t.Fatalf("history rows with a changeset: %d, want 4 (insert, 2 updates, delete)", n)
	}
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE action LIKE 'changeset.%'`).Scan(&n)
	if n != 4 {
		t.Fatalf("audit rows: %d, want 4", n)
	}
}

// TestEditLinesAndPoints: roads (MultiLineString, a LineString is
// promoted) and streetlights (Point) in CRS84 and in EPSG:4490's
// latitude-first order; patch and delete.
func TestEditLinesAndPoints(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	road := `{"type":"Feature","properties":{"lxbm":"C002","admin_grade":"村道","surface":"水泥混凝土","pavement_width":4.5},
		"geometry":{"type":"LineString","coordinates":[[125.7610,43.6010],[125.7630,43.6012]]}}`
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/roads/items", "application/geo+json", road)
	if resp.StatusCode != 201 {
		t.Fatalf("create road = %d %v", resp.StatusCode, m)
	}
	var rid int64
	var gtype string
	var length float64
	pool.QueryRow(ctx, `SELECT id, GeometryType(geom), ST_Length(geom::geography) FROM villageplan.roads WHERE lxbm = 'C002'`).Scan(&rid, &gtype, &length)
	if gtype != "MULTILINESTRING" || length < 150 || length > 170 {
		t.Fatalf("road stored as %s, %.1f m", gtype, length)
	}
	// EPSG:4490: latitude first (OGC API – Features Part 2 axis order).
	light := `{"type":"Feature","properties":{"pole_id":"DY-002","status":"正常","supply":"太阳能","power_w":60},
		"geometry":{"type":"Point","coordinates":[43.6011,125.7620]}}`
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/streetlights/items", "application/json", light,
		"Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/4490>")
	if resp.StatusCode != 201 {
		t.Fatalf("create streetlight = %d %v", resp.StatusCode, m)
	}
	var lid int64
	var lon, lat float64
	pool.QueryRow(ctx, `SELECT id, ST_X(geom), ST_Y(geom) FROM villageplan.streetlights WHERE pole_id = 'DY-002'`).Scan(&lid, &lon, &lat)
	if lon != 125.762 || lat != 43.6011 {
		t.Fatalf("streetlight at %v %v, want 125.762 43.6011", lon, lat)
	}
	// Patch the light's geometry and a property, with the ETag of the
	// feature as read in another CRS; then delete the road.
	u := fmt.Sprintf("%s/collections/streetlights/items/%d", ts.URL, lid)
	gk, _ := fetch(t, "GET", u+"?crs=http://www.opengis.net/def/crs/EPSG/0/4551", nil)
	if tag := gk.Header.Get("ETag"); tag == "" || tag == etagOf(t, ts, "streetlights", lid) {
		t.Fatalf("ETag in EPSG:4551 %q, want one of its own", tag)
	}
	resp, m = call(t, "editor", "PATCH", u, "application/merge-patch+json",
		`{"properties":{"status":"故障","power_w":null},"geometry":{"type":"Point","coordinates":[125.7621,43.6011]}}`, "If-Match", gk.Header.Get("ETag"))
	if resp.StatusCode != 200 {
		t.Fatalf("patch light = %d %v", resp.StatusCode, m)
	}
	var status string
	var power *float64
	pool.QueryRow(ctx, `SELECT status, power_w, ST_X(geom) FROM villageplan.streetlights WHERE id = $1`, lid).Scan(&status, &power, &lon)
	if status != "故障" || power != nil || lon != 125.7621 {
		t.Fatalf("after patch: %s %v %v", status, power, lon)
	}
	// Replace the road (a MultiLineString of two parts), delete the light.
	ru := fmt.Sprintf("%s/collections/roads/items/%d", ts.URL, rid)
	resp, m = call(t, "editor", "PUT", ru, "application/geo+json", `{"type":"Feature","properties":{"lxbm":"C002","admin_grade":"乡道"},
		"geometry":{"type":"MultiLineString","coordinates":[[[125.7610,43.6010],[125.7620,43.6011]],[[125.7620,43.6011],[125.7630,43.6015]]]}}`,
		"If-Match", etagOf(t, ts, "roads", rid))
	if resp.StatusCode != 200 {
		t.Fatalf("replace road = %d %v", resp.StatusCode, m)
	}
	var parts int
	var surface *string
	pool.QueryRow(ctx, `SELECT admin_grade, ST_NumGeometries(geom), surface FROM villageplan.roads WHERE id = $1`, rid).Scan(&gtype, &parts, &surface)
	if gtype != "乡道" || parts != 2 || surface != nil {
		t.Fatalf("after replace: %s, %d parts, surface %v (a replace clears what it does not give)", gtype, parts, surface)
	}
	resp, m = call(t, "editor", "DELETE", u, "", nil, "If-Match", etagOf(t, ts, "streetlights", lid))
	if resp.StatusCode != 204 {
		t.Fatalf("delete light = %d %v", resp.StatusCode, m)
	}
	resp, m = call(t, "editor", "DELETE", ru, "", nil, "If-Match", etagOf(t, ts, "roads", rid))
	if resp.StatusCode != 204 {
		t.Fatalf("delete road = %d %v", resp.StatusCode, m)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.roads WHERE id = $1`, rid).Scan(&n)
	if n != 0 {
		t.Fatal("road not deleted")
	}
	// The conformance classes of Part 4 are declared.
	_, b := fetch(t, "GET", ts.URL+"/conformance", nil)
	if !strings.Contains(string(b), "ogcapi-features-4/1.0/conf/create-replace-delete") || !strings.Contains(string(b), "ogcapi-features-4/1.0/conf/update") {
		t.Errorf("conformance lacks Part 4: %s", b)
	}
}

// TestEditValidation: every refusal is a 4xx JSON body in Chinese and
// English naming the field (or geometry position) and what to do; nothing
// is written.
func TestEditValidation(t *testing.T) {
	ts, pool := editFixture(t)
	post := func(layer, body string, hdr ...string) (int, map[string]any) {
		resp, m := call(t, "editor", "POST", ts.URL+"/collections/"+layer+"/items", "application/geo+json", body, hdr...)
		return resp.StatusCode, m
	}
	pt := `{"type":"Point","coordinates":[125.762,43.601]}`
	bowtie := `{"type":"Polygon","coordinates":[[[125.7600,43.6000],[125.7610,43.6010],[125.7610,43.6000],[125.7600,43.6010],[125.7600,43.6000]]]}`
	cases := []struct {
		name, layer, body string
		hdr               []string
		status            int
		field, want       string
	}{
		{"unknown property", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常","colour":"red"},"geometry":` + pt + `}`, nil, 422, "colour", "has no property"},
		{"code list", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"坏了"},"geometry":` + pt + `}`, nil, 422, "status", "code list"},
		{"required", "streetlights", `{"type":"Feature","properties":{"pole_id":"X"},"geometry":` + pt + `}`, nil, 422, "status", "required property status"},
		{"type", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常","power_w":"sixty"},"geometry":` + pt + `}`, nil, 422, "power_w", "must be a number"},
		{"min", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常","power_w":-5},"geometry":` + pt + `}`, nil, 422, "power_w", "below the minimum 0 W"},
		{"date", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常","installed_on":"2024-13-01"},"geometry":` + pt + `}`, nil, 422, "installed_on", "YYYY-MM-DD"},
		{"pattern", "homesteads", `{"type":"Feature","properties":{"zddm":"Z1","xzqdm":"2201","status":"已登记"},"geometry":` + gkSq(480500, 4829100, 10) + `}`, []string{"Content-Crs", epsg4551}, 422, "xzqdm", "exactly 12 digits"},
		{"geometry type", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常"},"geometry":` + bowtie + `}`, nil, 422, "geometry", "takes Point, got Polygon"},
		{"no geometry", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常"},"geometry":null}`, nil, 422, "geometry", "missing"},
		{"invalid polygon", "homesteads", `{"type":"Feature","properties":{"zddm":"Z2","xzqdm":"220112203300","status":"已登记"},"geometry":` + bowtie + `}`, nil, 422, "geometry", "Self-intersection"},
		{"open ring", "homesteads", `{"type":"Feature","properties":{"zddm":"Z3","xzqdm":"220112203300","status":"已登记"},"geometry":{"type":"Polygon","coordinates":[[[125.76,43.60],[125.761,43.60],[125.761,43.601],[125.76,43.601]]]}}`, nil, 422, "geometry", "not closed"},
		{"easting first in GK", "homesteads", `{"type":"Feature","properties":{"zddm":"Z4","xzqdm":"220112203300","status":"已登记"},"geometry":{"type":"Polygon","coordinates":[[[480500,4829100],[480510,4829100],[480510,4829110],[480500,4829110],[480500,4829100]]]}}`, []string{"Content-Crs", epsg4551}, 422, "geometry", "looks like easting first"},
		{"zone number of another zone", "homesteads", `{"type":"Feature","properties":{"zddm":"Z5","xzqdm":"220112203300","status":"已登记"},"geometry":` + gkSq(41480500, 4829100, 10) + `}`, []string{"Content-Crs", "EPSG:4530"}, 422, "geometry", "carries zone 41, but EPSG:4530 is zone 42"},
		{"degrees as GK", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常"},"geometry":{"type":"Point","coordinates":[480500,4829100]}}`, nil, 422, "geometry", "not longitude/latitude"},
		{"bad CRS", "streetlights", `{"type":"Feature","properties":{"pole_id":"X","status":"正常"},"geometry":` + pt + `}`, []string{"Content-Crs", "EPSG:2385"}, 400, "", "unsupported CRS"},
		{"not a feature", "streetlights", `{"type":"Point","coordinates":[1,2]}`, nil, 400, "", "GeoJSON Feature"},
		{"broken JSON", "streetlights", `{"type":"Feature",`, nil, 400, "", "not valid JSON"},
		{"unknown layer", "nope", `{"type":"Feature","properties":{},"geometry":` + pt + `}`, nil, 404, "", "no collection"},
	}
	for _, c := range cases {
		status, m := post(c.layer, c.body, c.hdr...)
		en, _ := m["description_en"].(string)
		zh, _ := m["description_zh"].(string)
		if status != c.status || !strings.Contains(en, c.want) || zh == "" || en == zh {
			t.Errorf("%s: %d %v, want %d mentioning %q in Chinese and English", c.name, status, m, c.status, c.want)
			continue
		}
		t.Logf("%s: %d %s", c.name, status, m["description"])
		if c.field != "" && m["field"] != c.field {
			t.Errorf("%s: field %v, want %s", c.name, m["field"], c.field)
		}
		if c.name == "invalid polygon" && (m["lon"] == nil || m["lat"] == nil || !strings.Contains(zh, "经度 125.76")) {
			t.Errorf("invalid polygon: no location of the problem: %v", m)
		}
	}
	// Wrong media type, unique key.
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/streetlights/items", "text/plain", `{}`)
	if resp.StatusCode != 415 {
		t.Errorf("text/plain = %d %v", resp.StatusCode, m)
	}
	dup := `{"type":"Feature","properties":{"zddm":"220112203300JC00001","xzqdm":"220112203300","status":"已登记"},"geometry":` + gkSq(480500, 4829200, 10) + `}`
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", dup, "Content-Crs", epsg4551)
	if resp.StatusCode != 409 || m["code"] != "DuplicateValue" || m["field"] != "zddm" || !strings.Contains(m["description_en"].(string), "220112203300JC00001") {
		t.Errorf("duplicate key = %d %v", resp.StatusCode, m)
	}
	var n int
	pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM villageplan.changesets) + (SELECT count(*) FROM villageplan.edit_history WHERE changeset_id IS NOT NULL)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d changesets or history rows after refused edits", n)
	}
}

// TestEditTopology: each topology rule of the catalog refuses an overlap
// beyond its tolerance with 409, naming the conflicting feature and the
// overlap in m² on the Gauss-Krüger plane; an overlap within the
// tolerance passes; nothing is written by a refused edit.
func TestEditTopology(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var h1, farm int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.homesteads WHERE zddm = '220112203300JC00001'`).Scan(&h1)
	pool.QueryRow(ctx, `SELECT id FROM villageplan.permanent_farmland`).Scan(&farm)
	conflict := func(m map[string]any) (layer string, id int64, area float64) {
		cs, _ := m["conflicts"].([]any)
		if len(cs) == 0 {
			return "", 0, 0
		}
		c := cs[0].(map[string]any)
		return c["collection"].(string), int64(c["feature_id"].(float64)), c["overlap_m2"].(float64)
	}
	hs := func(zddm string, e, n, size float64) string {
		return `{"type":"Feature","properties":{"zddm":"` + zddm + `","xzqdm":"220112203300","status":"已批准"},"geometry":` + gkSq(e, n, size) + `}`
	}
	// Homestead 1 is 480630–480650 × 4829000–4829028: a new 10 m square
	// 5 m into it overlaps 5 × 10 = 50 m².
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", hs("220112203300JC00010", 480645, 4829010, 10), "Content-Crs", epsg4551)
	layer, id, area := conflict(m)
	if resp.StatusCode != 409 || m["code"] != "TopologyViolation" || layer != "homesteads" || id != h1 || area < 49.9 || area > 50.1 ||
		!strings.Contains(m["description_zh"].(string), fmt.Sprintf("homesteads 要素 %d（重叠 50.00 平方米）", h1)) {
		t.Fatalf("homestead over homestead = %d %v", resp.StatusCode, m)
	}
	// Into the farmland (480700–480800): 6 m × 10 m = 60 m².
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", hs("220112203300JC00011", 480696, 4829010, 10), "Content-Crs", epsg4551)
	layer, id, area = conflict(m)
	if resp.StatusCode != 409 || layer != "permanent_farmland" || id != farm || area < 59.9 || area > 60.1 || m["feature_id"] != nil || !strings.Contains(m["description_en"].(string), "permanent basic farmland") {
		t.Fatalf("homestead over farmland = %d %v", resp.StatusCode, m)
	}
	// Within the tolerance (0.02 m × 10 m = 0.2 m² < 0.5 m²): accepted.
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", hs("220112203300JC00012", 480650-0.02, 4829010, 10), "Content-Crs", epsg4551)
	if resp.StatusCode != 201 {
		t.Fatalf("sliver within tolerance = %d %v", resp.StatusCode, m)
	}
	// Reshaping an existing parcel onto its neighbour is refused too.
	var h2 int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.homesteads WHERE zddm = '220112203300JC00002'`).Scan(&h2)
	resp, m = call(t, "editor", "PATCH", fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, h2), "application/merge-patch+json",
		`{"geometry":`+gkSq(480640, 4829000, 25)+`}`, "If-Match", etagOf(t, ts, "homesteads", h2), "Content-Crs", epsg4551)
	if _, id, _ := conflict(m); resp.StatusCode != 409 || id != h1 {
		t.Fatalf("reshape onto the neighbour = %d %v", resp.StatusCode, m)
	}
	// Villages may not overlap each other.
	vil := func(code string, e float64) string {
		return `{"type":"Feature","properties":{"xzqdm":"` + code + `","xzqmc":"测试村","czlx":"集聚提升类"},"geometry":` + gkSq(e, 4830000, 1000) + `}`
	}
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/villages/items", "application/geo+json", vil("220112203300", 480000), "Content-Crs", epsg4551)
	if resp.StatusCode != 201 {
		t.Fatalf("first village = %d %v", resp.StatusCode, m)
	}
	var v1 int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.villages WHERE xzqdm = '220112203300'`).Scan(&v1)
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/villages/items", "application/geo+json", vil("220112203301", 480900), "Content-Crs", epsg4551)
	if layer, id, area := conflict(m); resp.StatusCode != 409 || layer != "villages" || id != v1 || area < 99999 || area > 100001 {
		t.Fatalf("overlapping village = %d %v (want 100 000 m² with village %d)", resp.StatusCode, m, v1)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.homesteads`).Scan(&n)
	if n != 3 {
		t.Errorf("%d homesteads, want 3 (2 + the sliver)", n)
	}
}

// TestChangesetAtomic: a changeset over two layers whose second operation
// fails leaves nothing: no feature, no history, no changeset, no layer
// version bump. The same changeset corrected lands whole.
func TestChangesetAtomic(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	state := func() string {
		var s string
		pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.streetlights) || '/' || (SELECT count(*) FROM villageplan.homesteads) || '/' ||
			(SELECT count(*) FROM villageplan.edit_history) || '/' || (SELECT count(*) FROM villageplan.changesets) || '/' ||
			(SELECT string_agg(layer || ':' || version, ',' ORDER BY layer) FROM villageplan.layer_version)`).Scan(&s)
		return s
	}
	var lid int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.streetlights`).Scan(&lid)
	before := state()
	cs := func(homesteadEast float64) map[string]any {
		return map[string]any{"message": "新增路灯和宅基地 / add a light and a parcel", "operations": []any{
			map[string]any{"op": "create", "collection": "streetlights", "feature": json.RawMessage(`{"type":"Feature","properties":{"pole_id":"DY-009","status":"正常"},"geometry":{"type":"Point","coordinates":[125.762,43.601]}}`)},
			map[string]any{"op": "patch", "collection": "streetlights", "feature_id": lid, "if_match": etagOf(t, ts, "streetlights", lid), "feature": map[string]any{"properties": map[string]any{"status": "停用"}}},
			map[string]any{"op": "create", "collection": "homesteads", "crs": "EPSG:4551", "feature": json.RawMessage(`{"type":"Feature","properties":{"zddm":"220112203300JC00020","xzqdm":"220112203300","status":"已批准"},"geometry":` + gkSq(homesteadEast, 4829005, 10) + `}`)},
		}}
	}
	resp, m := call(t, "editor", "POST", ts.URL+"/changesets", "application/json", cs(480635))
	if resp.StatusCode != 409 || m["operation"] != float64(3) {
		t.Fatalf("changeset failing at operation 3 = %d %v", resp.StatusCode, m)
	}
	if after := state(); after != before {
		t.Fatalf("a failed changeset left traces: %s → %s", before, after)
	}
	resp, m = call(t, "editor", "POST", ts.URL+"/changesets", "application/json", cs(480500))
	if resp.StatusCode != 201 || m["state"] != "published" || len(m["features"].([]any)) != 3 {
		t.Fatalf("changeset = %d %v", resp.StatusCode, m)
	}
	id := int64(m["id"].(float64))
	var n int
	pool.QueryRow(ctx, `SELECT count(DISTINCT layer) FROM villageplan.edit_history WHERE changeset_id = $1`, id).Scan(&n)
	if n != 2 {
		t.Fatalf("history of changeset %d spans %d layers, want 2", id, n)
	}
	// GET /changesets/{id}: its changes as GeoJSON with the change kind.
	resp, m = call(t, "analyst", "GET", fmt.Sprintf("%s/changesets/%d", ts.URL, id), "", nil)
	fs, _ := m["features"].([]any)
	if resp.StatusCode != 200 || m["type"] != "FeatureCollection" || len(fs) != 3 {
		t.Fatalf("GET changeset = %d %v", resp.StatusCode, m)
	}
	kinds := ""
	for _, f := range fs {
		f := f.(map[string]any)
		kinds += f["collection"].(string) + ":" + f["change"].(string) + " "
		if f["geometry"] == nil {
			t.Errorf("change without geometry: %v", f)
		}
	}
	if kinds != "streetlights:create streetlights:patch homesteads:create " {
		t.Errorf("changes %q", kinds)
	}
	// The patch shows the feature before and after.
	patched := fs[1].(map[string]any)
	prior, _ := patched["before"].(map[string]any)
	if prior == nil || prior["properties"].(map[string]any)["status"] != "正常" || patched["properties"].(map[string]any)["status"] != "停用" {
		t.Errorf("patch change without its before state: %v", patched)
	}
	if info := m["changeset"].(map[string]any); info["author"] != "li_editor" || info["message"] != "新增路灯和宅基地 / add a light and a parcel" {
		t.Errorf("changeset info %v", info)
	}
	resp, m = call(t, "analyst", "GET", ts.URL+"/changesets?state=published", "", nil)
	if resp.StatusCode != 200 || m["numberReturned"] != float64(1) {
		t.Errorf("list = %d %v", resp.StatusCode, m)
	}
}

// TestChangesetRevert: a revert restores every feature of a changeset
// (created ones deleted, changed ones restored, deleted ones back with
// their ids) as a new changeset; a revert after a later edit of the same
// features (here one through psql) is a 409 naming them and changes
// nothing.
func TestChangesetRevert(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var lid, rid int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.streetlights`).Scan(&lid)
	pool.QueryRow(ctx, `SELECT id FROM villageplan.roads`).Scan(&rid)
	snapshot := func() string {
		var s string
		pool.QueryRow(ctx, `SELECT (SELECT string_agg(id || pole_id || status || ST_AsText(geom), ';' ORDER BY id) FROM villageplan.streetlights) || '|' ||
			(SELECT coalesce(string_agg(id || coalesce(lxbm, '') || ST_AsText(geom), ';' ORDER BY id), '') FROM villageplan.roads)`).Scan(&s)
		return s
	}
	orig := snapshot()
	resp, m := call(t, "editor", "POST", ts.URL+"/changesets", "application/json", map[string]any{"message": "路灯改造", "operations": []any{
		map[string]any{"op": "create", "collection": "streetlights", "feature": json.RawMessage(`{"type":"Feature","properties":{"pole_id":"DY-010","status":"正常"},"geometry":{"type":"Point","coordinates":[125.763,43.601]}}`)},
		map[string]any{"op": "replace", "collection": "streetlights", "feature_id": lid, "if_match": etagOf(t, ts, "streetlights", lid), "feature": json.RawMessage(`{"type":"Feature","properties":{"pole_id":"DY-001","status":"维修中"},"geometry":{"type":"Point","coordinates":[125.7631,43.6011]}}`)},
		map[string]any{"op": "delete", "collection": "roads", "feature_id": rid, "if_match": etagOf(t, ts, "roads", rid)},
	}})
	if resp.StatusCode != 201 {
		t.Fatalf("changeset = %d %v", resp.StatusCode, m)
	}
	cs1 := int64(m["id"].(float64))
	if snapshot() == orig {
		t.Fatal("changeset changed nothing")
	}
	resp, m = call(t, "editor2", "POST", fmt.Sprintf("%s/changesets/%d/revert", ts.URL, cs1), "", nil)
	if resp.StatusCode != 201 || m["state"] != "published" {
		t.Fatalf("revert = %d %v", resp.StatusCode, m)
	}
	if got := snapshot(); got != orig {
		t.Fatalf("after the revert:\n%s\nwant\n%s", got, orig)
	}
	rev := int64(m["id"].(float64))
	var reverts int64
	var author string
	pool.QueryRow(ctx, `SELECT reverts, author FROM villageplan.changesets WHERE id = $1`, rev).Scan(&reverts, &author)
	if reverts != cs1 || author != "wang_editor" {
		t.Errorf("revert changeset: reverts %d author %s", reverts, author)
	}
	// Reverting twice is refused.
	if resp, m := call(t, "editor2", "POST", fmt.Sprintf("%s/changesets/%d/revert", ts.URL, cs1), "", nil); resp.StatusCode != 409 {
		t.Errorf("second revert = %d %v", resp.StatusCode, m)
	}

	// A later edit through psql blocks the revert of the revert.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(ctx, `SET LOCAL villageplan.actor = '张三 (QGIS)'`)
	if _, err := tx.Exec(ctx, `UPDATE villageplan.streetlights SET status = '停用' WHERE id = $1`, lid); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	before := snapshot()
	resp, m = call(t, "editor", "POST", fmt.Sprintf("%s/changesets/%d/revert", ts.URL, rev), "application/json", `{"message":"恢复改造"}`)
	cs, _ := m["conflicts"].([]any)
	if resp.StatusCode != 409 || len(cs) != 1 {
		t.Fatalf("conflicting revert = %d %v", resp.StatusCode, m)
	}
	c := cs[0].(map[string]any)
	if c["collection"] != "streetlights" || c["feature_id"] != float64(lid) || c["actor"] != "张三 (QGIS)" || !strings.Contains(m["description_en"].(string), fmt.Sprintf("streetlights/%d", lid)) {
		t.Errorf("conflict %v", c)
	}
	if snapshot() != before {
		t.Error("a refused revert changed data")
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.changesets`).Scan(&n)
	if n != 2 {
		t.Errorf("%d changesets, want 2", n)
	}
}

// TestReviewRequired: a change of permanent farmland (and of a 生态保护红线
// zone) is stored as proposed (202), not applied; its author cannot
// approve it; another planning editor or the township approver can, and
// only then the layer changes. A rejected proposal changes nothing.
func TestReviewRequired(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var farm int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.permanent_farmland`).Scan(&farm)
	u := fmt.Sprintf("%s/collections/permanent_farmland/items/%d", ts.URL, farm)
	tag := etagOf(t, ts, "permanent_farmland", farm)
	resp, m := call(t, "editor", "PATCH", u, "application/merge-patch+json", `{"properties":{"dlbm":"0101"}}`, "If-Match", tag)
	if resp.StatusCode != 202 || m["state"] != "proposed" || !strings.Contains(resp.Header.Get("Location"), "/changesets/") ||
		!strings.Contains(m["review_reason"].(string), "permanent_farmland") {
		t.Fatalf("farmland patch = %d %v", resp.StatusCode, m)
	}
	id := int64(m["id"].(float64))
	dlbm := func() string {
		var s string
		pool.QueryRow(ctx, `SELECT dlbm FROM villageplan.permanent_farmland WHERE id = $1`, farm).Scan(&s)
		return s
	}
	if dlbm() != "0103" || etagOf(t, ts, "permanent_farmland", farm) != tag {
		t.Fatal("a proposed change was applied")
	}
	// The reviewer sees the proposal next to the feature as it is.
	_, got := call(t, "approver", "GET", fmt.Sprintf("%s/changesets/%d", ts.URL, id), "", nil)
	ch := got["features"].([]any)[0].(map[string]any)
	if b, _ := ch["before"].(map[string]any); b == nil || b["properties"].(map[string]any)["dlbm"] != "0103" || ch["properties"].(map[string]any)["dlbm"] != "0101" ||
		got["changeset"].(map[string]any)["state"] != "proposed" {
		t.Errorf("proposed change as shown: %v", got)
	}
	approve := fmt.Sprintf("%s/changesets/%d/approve", ts.URL, id)
	if resp, m := call(t, "editor", "POST", approve, "", nil); resp.StatusCode != 403 || !strings.Contains(m["description_en"].(string), "another person") {
		t.Fatalf("author approving = %d %v", resp.StatusCode, m)
	}
	if resp, m := call(t, "analyst", "POST", approve, "", nil); resp.StatusCode != 403 {
		t.Fatalf("analyst approving = %d %v", resp.StatusCode, m)
	}
	resp, m = call(t, "editor2", "POST", approve, "application/json", `{"comment":"核实无误"}`)
	if resp.StatusCode != 200 || m["state"] != "published" {
		t.Fatalf("approve = %d %v", resp.StatusCode, m)
	}
	if dlbm() != "0101" {
		t.Fatal("approved change not applied")
	}
	var actor, reviewer string
	pool.QueryRow(ctx, `SELECT e.actor, c.reviewer FROM villageplan.edit_history e JOIN villageplan.changesets c ON c.id = e.changeset_id
		WHERE e.changeset_id = $1`, id).Scan(&actor, &reviewer)
	if actor != "li_editor" || reviewer != "wang_editor" {
		t.Errorf("history actor %q reviewer %q", actor, reviewer)
	}
	if resp, _ := call(t, "approver", "POST", approve, "", nil); resp.StatusCode != 409 {
		t.Errorf("approving twice = %d", resp.StatusCode)
	}

	// 生态保护红线: a new zone is proposed; the township approver rejects it.
	zone := `{"type":"Feature","properties":{"gkbjlxmc":"生态保护红线","name":"石溪河"},"geometry":` + gkSq(481000, 4829000, 200) + `}`
	resp, m = call(t, "editor", "POST", ts.URL+"/collections/control_zones/items", "application/geo+json", zone, "Content-Crs", epsg4551)
	if resp.StatusCode != 202 {
		t.Fatalf("red-line zone = %d %v", resp.StatusCode, m)
	}
	zid := int64(m["id"].(float64))
	resp, m = call(t, "approver", "POST", fmt.Sprintf("%s/changesets/%d/reject", ts.URL, zid), "application/json", `{"comment":"边界未经批准"}`)
	if resp.StatusCode != 200 || m["state"] != "rejected" {
		t.Fatalf("reject = %d %v", resp.StatusCode, m)
	}
	// A zone of another kind needs no review.
	other := strings.Replace(zone, "生态保护红线", "河道管理范围", 1)
	if resp, m := call(t, "editor", "POST", ts.URL+"/collections/control_zones/items", "application/geo+json", other, "Content-Crs", epsg4551); resp.StatusCode != 201 {
		t.Fatalf("river zone = %d %v", resp.StatusCode, m)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.control_zones`).Scan(&n)
	if n != 1 {
		t.Errorf("%d control zones, want 1 (the rejected one never applied)", n)
	}
	// A proposal whose feature changed meanwhile cannot be approved.
	tag = etagOf(t, ts, "permanent_farmland", farm)
	resp, m = call(t, "editor", "PATCH", u, "application/merge-patch+json", `{"properties":{"dlmc":"水田"}}`, "If-Match", tag)
	pid := int64(m["id"].(float64))
	if _, err := pool.Exec(ctx, `UPDATE villageplan.permanent_farmland SET tbbh = '0042' WHERE id = $1`, farm); err != nil {
		t.Fatal(err)
	}
	resp, m = call(t, "approver", "POST", fmt.Sprintf("%s/changesets/%d/approve", ts.URL, pid), "", nil)
	if resp.StatusCode != 409 || len(m["conflicts"].([]any)) != 1 {
		t.Fatalf("approving a stale proposal = %d %v", resp.StatusCode, m)
	}
}

// TestEditRights: anonymous and roles without edit rights are refused; a
// village-scoped editor edits its village only; personal fields are kept
// by a replace and cannot be written without the personal-data grant.
func TestEditRights(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	light := `{"type":"Feature","properties":{"pole_id":"DY-011","status":"正常","xzqdm":"220112203300"},"geometry":{"type":"Point","coordinates":[125.763,43.601]}}`
	for tok, want := range map[string]int{"": 401, "analyst": 403, "approver": 403} {
		if resp, m := call(t, tok, "POST", ts.URL+"/collections/streetlights/items", "application/geo+json", light); resp.StatusCode != want {
			t.Errorf("%q creating = %d %v, want %d", tok, resp.StatusCode, m, want)
		}
	}
	if resp, m := call(t, "village", "POST", ts.URL+"/collections/streetlights/items", "application/geo+json", light); resp.StatusCode != 403 ||
		!strings.Contains(m["description_en"].(string), "village 220112203300") {
		t.Errorf("editor of another village = %d %v", resp.StatusCode, m)
	}
	own := strings.Replace(light, "220112203300", "220112203301", 1)
	if resp, m := call(t, "village", "POST", ts.URL+"/collections/streetlights/items", "application/geo+json", own); resp.StatusCode != 201 {
		t.Errorf("editor of its own village = %d %v", resp.StatusCode, m)
	}
	var h1 int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.homesteads WHERE zddm = '220112203300JC00001'`).Scan(&h1)
	u := fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, h1)
	if resp, m := call(t, "editor", "PATCH", u, "application/merge-patch+json", `{"properties":{"holder_name":"牛"}}`, "If-Match", etagOf(t, ts, "homesteads", h1)); resp.StatusCode != 403 {
		t.Errorf("writing a personal field = %d %v", resp.StatusCode, m)
	}
	rep := `{"type":"Feature","properties":{"zddm":"220112203300JC00001","xzqdm":"220112203300","status":"闲置"},"geometry":` + gkSq(480630, 4829000, 20) + `}`
	if resp, m := call(t, "editor", "PUT", u, "application/geo+json", rep, "If-Match", etagOf(t, ts, "homesteads", h1), "Content-Crs", epsg4551); resp.StatusCode != 200 {
		t.Fatalf("replace = %d %v", resp.StatusCode, m)
	}
	var holder, status string
	pool.QueryRow(ctx, `SELECT holder_name, status FROM villageplan.homesteads WHERE id = $1`, h1).Scan(&holder, &status)
	if holder != "马1" || status != "闲置" {
		t.Errorf("after replace: holder %q status %q, want the holder kept", holder, status)
	}
}

// TestPlainSQLEditsInHistory: edits made on the database connection
// (psql, QGIS) are recorded per feature with their actor: the session
// setting villageplan.actor, else the database role; no changeset.
func TestPlainSQLEditsInHistory(t *testing.T) {
	_, pool := editFixture(t)
	ctx := context.Background()
	var role string
	pool.QueryRow(ctx, `SELECT session_user`).Scan(&role)
	if _, err := pool.Exec(ctx, `UPDATE villageplan.streetlights SET status = '故障' WHERE pole_id = 'DY-001'`); err != nil {
		t.Fatal(err)
	}
	tx, _ := pool.Begin(ctx)
	tx.Exec(ctx, `SET LOCAL villageplan.actor = 'qgis:刘工'`)
	if _, err := tx.Exec(ctx, `DELETE FROM villageplan.roads WHERE lxbm = 'C001'`); err != nil {
		t.Fatal(err)
	}
	tx.Commit(ctx)
	rows, err := pool.Query(ctx, `SELECT layer, action, actor, changeset_id IS NULL, before IS NOT NULL FROM villageplan.edit_history
		WHERE action IN ('update', 'delete') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var layer, action, actor string
		var noCS, hasBefore bool
		rows.Scan(&layer, &action, &actor, &noCS, &hasBefore)
		got = append(got, fmt.Sprintf("%s %s %s %v %v", layer, action, actor, noCS, hasBefore))
	}
	want := []string{"streetlights update " + role + " true true", "roads delete qgis:刘工 true true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEditShowsAtOnce: after an edit through the API the feature, the
// items page and the layer's tile answer with new ETags and the new data.
func TestEditShowsAtOnce(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var id int64
	var lon, lat float64
	pool.QueryRow(ctx, `SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM villageplan.homesteads ORDER BY id LIMIT 1`).Scan(&id, &lon, &lat)
	tileURL := ts.URL + "/tiles/homesteads/" + tileAddr(lon, lat, 16) + ".mvt"
	itemsURL := ts.URL + "/collections/homesteads/items"
	t0 := tileFetch(t, "GET", tileURL, nil)
	i0, _ := fetch(t, "GET", itemsURL, nil)
	tag := etagOf(t, ts, "homesteads", id)
	if t0.code != 200 {
		t.Fatalf("tile = %d", t0.code)
	}
	resp, m := call(t, "editor", "PATCH", fmt.Sprintf("%s/collections/homesteads/items/%d", ts.URL, id), "application/merge-patch+json",
		`{"properties":{"status":"退出"}}`, "If-Match", tag)
	if resp.StatusCode != 200 {
		t.Fatalf("patch = %d %v", resp.StatusCode, m)
	}
	if etagOf(t, ts, "homesteads", id) == tag {
		t.Error("feature ETag unchanged")
	}
	if i1, b := fetch(t, "GET", itemsURL, nil); i1.Header.Get("ETag") == i0.Header.Get("ETag") || !strings.Contains(string(b), "退出") {
		t.Error("items page unchanged")
	}
	start := time.Now()
	for {
		t1 := tileFetch(t, "GET", tileURL, map[string]string{"If-None-Match": t0.hdr.Get("ETag")})
		if t1.code == 200 {
			found := false
			for _, f := range tileDecode(t, t1).Layer("homesteads").Features {
				found = found || (int64(f.ID) == id && f.Properties["status"] == "退出")
			}
			if !found {
				t.Error("the new tile does not show the edit")
			}
			break
		}
		if t1.code != 304 || time.Since(start) > 2*time.Second {
			t.Fatalf("tile after the edit: %d after %s", t1.code, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEditOddBodiesNever500: malformed geometries, values and changesets
// are 4xx with a JSON body, never a 5xx.
func TestEditOddBodiesNever500(t *testing.T) {
	ts, _ := editFixture(t)
	geoms := []string{`{"type":"Point","coordinates":[1]}`, `{"type":"Point","coordinates":[]}`, `{"type":"Point"}`,
		`{"type":"Polygon","coordinates":[[[125.76,43.6]]]}`, `{"type":"Polygon","coordinates":[]}`, `{"type":"Polygon","coordinates":[[]]}`,
		`{"type":"MultiPolygon","coordinates":[[]]}`, `{"type":"GeometryCollection","geometries":[]}`, `{"type":"Circle","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[[[1e308,1],[2,2],[3,1],[1e308,1]]]}`, `"Point"`, `[]`, `{"type":"LineString","coordinates":[[125.76,43.6],[125.76,43.6]]}`,
		`{"type":"Polygon","coordinates":[[[125.76,43.6],[125.76,43.6],[125.76,43.6],[125.76,43.6]]]}`}
	for _, g := range geoms {
		for _, layer := range []string{"homesteads", "roads", "streetlights"} {
			body := `{"type":"Feature","properties":{"zddm":"Z","xzqdm":"220112203300","status":"已登记","admin_grade":"村道","pole_id":"P"},"geometry":` + g + `}`
			for _, crs := range []string{"", "EPSG:3857", "EPSG:4551"} {
				resp, m := call(t, "editor", "POST", ts.URL+"/collections/"+layer+"/items", "application/geo+json", body, "Content-Crs", crs)
				if resp.StatusCode >= 500 || (resp.StatusCode != 201 && m["code"] == nil) {
					t.Errorf("%s %s in %q: %d %v", layer, g, crs, resp.StatusCode, m)
				}
			}
		}
	}
	for _, b := range []string{`null`, `{}`, `{"message":"m"}`, `{"message":"m","operations":[{}]}`, `{"message":"m","operations":[{"op":"create","collection":"roads"}]}`,
		`{"message":"m","operations":[{"op":"patch","collection":"roads","feature_id":1,"if_match":"\"1.1\""}]}`,
		`{"message":"m","operations":[{"op":"patch","collection":"roads","feature_id":1,"if_match":"W/\"1.1\"","feature":{}}]}`,
		`{"message":"m","operations":[{"op":"delete","collection":"roads","feature_id":99999,"if_match":"\"99999.1\""}]}`,
		`{"message":"m","operations":[{"op":"patch","collection":"roads","feature_id":1,"if_match":"\"1.1\"","feature":{"properties":"x"}}]}`,
		`{"message":"","operations":[{"op":"delete","collection":"roads","feature_id":1,"if_match":"\"1.1\""}]}`,
		`{"message":"m","operations":[],"extra":1}`} {
		resp, m := call(t, "editor", "POST", ts.URL+"/changesets", "application/json", b)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || m["code"] == nil {
			t.Errorf("changeset %s: %d %v", b, resp.StatusCode, m)
		}
	}
	for _, u := range []string{"/changesets/0", "/changesets/abc/approve", "/changesets/999/approve", "/changesets/999/revert", "/changesets/999/reject"} {
		resp, m := call(t, "editor2", "POST", ts.URL+u, "", nil)
		if u == "/changesets/0" {
			resp, m = call(t, "editor2", "GET", ts.URL+u, "", nil)
		}
		if resp.StatusCode != 404 || m["code"] == nil {
			t.Errorf("%s: %d %v", u, resp.StatusCode, m)
		}
	}
}

// TestConcurrentOverlappingCreates: while an edit of permanent farmland
// is in flight (an approval: it holds the topology locks the service takes
// for farmland — farmland and homesteads, whose rule compares with it —
// and has inserted a parcel, not yet committed), a homestead created over
// that parcel waits for it and then sees it: 409. Without the locks the
// create would miss the uncommitted farmland and both would land. (Edits
// of one layer are also serialised by its layer_version row.)
func TestConcurrentOverlappingCreates(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var other int64
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('villageplan.edit.' || x)) FROM unnest(ARRAY['homesteads', 'permanent_farmland']) x`); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, geom)
		VALUES ('2201122033000077', '0103', ST_Multi(ST_Transform(ST_MakeEnvelope(481000, 4830000, 481020, 4830020, 4551), 4490)))
		RETURNING id`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		m    map[string]any
	}
	done := make(chan answer, 1)
	body := `{"type":"Feature","properties":{"zddm":"220112203300JC00078","xzqdm":"220112203300","status":"已批准"},"geometry":` + gkSq(481010, 4830000, 20) + `}`
	go func() {
		resp, m := call(t, "editor", "POST", ts.URL+"/collections/homesteads/items", "application/geo+json", body, "Content-Crs", epsg4551)
		done <- answer{resp.StatusCode, m}
	}()
	select {
	case a := <-done:
		t.Fatalf("the create did not wait for the edit in flight: %d %v", a.code, a.m)
	case <-time.After(500 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	a := <-done
	cs, _ := a.m["conflicts"].([]any)
	if a.code != 409 || len(cs) != 1 || cs[0].(map[string]any)["feature_id"] != float64(other) || cs[0].(map[string]any)["collection"] != "permanent_farmland" {
		t.Fatalf("create after the concurrent edit = %d %v, want 409 naming farmland %d", a.code, a.m, other)
	}
}

// TestFeatureHistory: a feature created by the sample's bulk load, edited
// through psql and twice through the service lists every version in order
// with actor, changeset and message, and the feature after each.
func TestFeatureHistory(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	// A bulk load (compact batch record) of one streetlight.
	tx, _ := pool.Begin(ctx)
	tx.Exec(ctx, `SET LOCAL villageplan.history = 'batch'`)
	tx.Exec(ctx, `SET LOCAL villageplan.batch_id = 'import-1'`)
	tx.Exec(ctx, `SET LOCAL villageplan.actor = 'import'`)
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('DY-050', '正常', ST_SetSRID(ST_MakePoint(125.76, 43.6), 4490)) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tx.Commit(ctx)
	pool.Exec(ctx, `UPDATE villageplan.streetlights SET status = '故障' WHERE id = $1`, id)
	u := fmt.Sprintf("%s/collections/streetlights/items/%d", ts.URL, id)
	if resp, m := call(t, "editor", "PATCH", u+"?message=修复", "application/merge-patch+json", `{"properties":{"status":"正常"}}`, "If-Match", etagOf(t, ts, "streetlights", id)); resp.StatusCode != 200 {
		t.Fatalf("patch = %d %v", resp.StatusCode, m)
	}
	if resp, m := call(t, "editor2", "DELETE", u, "", nil, "If-Match", etagOf(t, ts, "streetlights", id)); resp.StatusCode != 204 {
		t.Fatalf("delete = %d %v", resp.StatusCode, m)
	}
	if resp, _ := call(t, "", "GET", u+"/history", "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous history = %d", resp.StatusCode)
	}
	resp, m := call(t, "analyst", "GET", u+"/history", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("history = %d %v", resp.StatusCode, m)
	}
	var got []string
	for _, v := range m["versions"].([]any) {
		v := v.(map[string]any)
		status := "-"
		if f, ok := v["feature"].(map[string]any); ok {
			status = f["properties"].(map[string]any)["status"].(string)
		}
		msg, _ := v["message"].(string)
		got = append(got, fmt.Sprintf("%s %s %s %s %v %s", v["action"], v["actor"], v["recorded"], status, v["changeset"] != nil, msg))
	}
	var role string
	pool.QueryRow(ctx, `SELECT session_user`).Scan(&role)
	want := []string{"insert import batch 正常 false ", "update " + role + " row 故障 false ", "update li_editor row 正常 true 修复",
		"delete wang_editor row - true DELETE /collections/streetlights/items/" + fmt.Sprint(id)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if resp, _ := call(t, "analyst", "GET", ts.URL+"/collections/streetlights/items/99999/history", "", nil); resp.StatusCode != 404 {
		t.Errorf("history of nothing = %d", resp.StatusCode)
	}
}

// TestProposalCheckedAtOnce: a proposed change that breaks a rule is
// refused when it is proposed, not only when it is approved.
func TestProposalCheckedAtOnce(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	// A farmland parcel with an existing key: refused at once (409).
	dup := `{"type":"Feature","properties":{"yjjbnttbbh":"2201122033000001","dlbm":"0103"},"geometry":` + gkSq(482000, 4829000, 50) + `}`
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/permanent_farmland/items", "application/geo+json", dup, "Content-Crs", epsg4551)
	if resp.StatusCode != 409 || m["code"] != "DuplicateValue" {
		t.Fatalf("duplicate farmland proposal = %d %v", resp.StatusCode, m)
	}
	var n int
	pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.changesets) + (SELECT count(*) FROM villageplan.permanent_farmland)`).Scan(&n)
	if n != 1 {
		t.Errorf("changesets + farmland = %d, want 1 (the fixture's parcel)", n)
	}
	// "properties": null removes every property (RFC 7396): required ones
	// are then missing.
	var farm int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.permanent_farmland`).Scan(&farm)
	resp, m = call(t, "editor", "PATCH", fmt.Sprintf("%s/collections/permanent_farmland/items/%d", ts.URL, farm), "application/merge-patch+json",
		`{"properties":null}`, "If-Match", etagOf(t, ts, "permanent_farmland", farm))
	if resp.StatusCode != 422 || m["field"] != "yjjbnttbbh" {
		t.Fatalf("properties: null = %d %v", resp.StatusCode, m)
	}
}
