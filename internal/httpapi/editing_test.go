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

func square(e, n, size float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[2]g,%[1]g],[%[2]g,%[3]g],[%[4]g,%[3]g],[%[4]g,%[1]g],[%[2]g,%[1]g]]]}`,
		e, n, e+size, n+size)
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
