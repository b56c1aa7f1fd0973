package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// instant returns the database clock between two steps, a few ms clear of
// both (edits are stamped with their transaction's start time).
func instant(t *testing.T, pool *pgxpool.Pool) time.Time {
	t.Helper()
	time.Sleep(15 * time.Millisecond)
	var at time.Time
	if err := pool.QueryRow(context.Background(), `SELECT clock_timestamp()`).Scan(&at); err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Millisecond)
	return at
}

// lightsAsOf lists the streetlights as of at over HTTP as "pole_id:status",
// sorted, following next links (limit 2 forces paging).
func lightsAsOf(t *testing.T, u string) []string {
	t.Helper()
	var out []string
	for u != "" {
		resp, m := call(t, "analyst", "GET", u, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %v", u, resp.StatusCode, m)
		}
		fs, _ := m["features"].([]any)
		for _, f := range fs {
			p := f.(map[string]any)["properties"].(map[string]any)
			out = append(out, fmt.Sprintf("%v:%v", p["pole_id"], p["status"]))
		}
		u = ""
		links, _ := m["links"].([]any)
		for _, l := range links {
			if lm := l.(map[string]any); lm["rel"] == "next" {
				u = lm["href"].(string)
			}
		}
	}
	sort.Strings(out)
	return out
}

func at(tm time.Time) string { return url.QueryEscape(tm.Format(time.RFC3339Nano)) }

// TestAsOfAfterEdits: a sequence of edits (API create, patch and delete, a
// bulk load recorded compactly, a revert, a psql delete); the layer as of
// the instant after each step, over HTTP with paging, equals a
// hand-written table; datetime on a single feature, with bbox and filter,
// and on a CSV download; the changes between two instants.
func TestAsOfAfterEdits(t *testing.T) {
	ts, pool := editFixture(t)
	ctx := context.Background()
	var lid int64
	var created time.Time
	pool.QueryRow(ctx, `SELECT id FROM villageplan.streetlights WHERE pole_id = 'DY-001'`).Scan(&lid)
	pool.QueryRow(ctx, `SELECT min(at) FROM villageplan.edit_history WHERE layer = 'streetlights'`).Scan(&created)
	T := []time.Time{instant(t, pool)}

	// 1. create DY-010 through the API
	resp, m := call(t, "editor", "POST", ts.URL+"/collections/streetlights/items", "application/geo+json",
		`{"type":"Feature","properties":{"pole_id":"DY-010","status":"正常"},"geometry":{"type":"Point","coordinates":[125.763,43.601]}}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create = %d %v", resp.StatusCode, m)
	}
	var nid int64
	pool.QueryRow(ctx, `SELECT id FROM villageplan.streetlights WHERE pole_id = 'DY-010'`).Scan(&nid)
	T = append(T, instant(t, pool))
	// 2. patch DY-001
	u1 := fmt.Sprintf("%s/collections/streetlights/items/%d", ts.URL, lid)
	if resp, m := call(t, "editor", "PATCH", u1, "application/merge-patch+json", `{"properties":{"status":"维修中"}}`,
		"If-Match", etagOf(t, ts, "streetlights", lid)); resp.StatusCode != 200 {
		t.Fatalf("patch = %d %v", resp.StatusCode, m)
	}
	T = append(T, instant(t, pool))
	// 3. delete DY-010
	un := fmt.Sprintf("%s/collections/streetlights/items/%d", ts.URL, nid)
	if resp, m := call(t, "editor", "DELETE", un, "", nil, "If-Match", etagOf(t, ts, "streetlights", nid)); resp.StatusCode != 204 {
		t.Fatalf("delete = %d %v", resp.StatusCode, m)
	}
	var delCS int64
	pool.QueryRow(ctx, `SELECT changeset_id FROM villageplan.edit_history WHERE action = 'delete' AND feature_id = $1`, nid).Scan(&delCS)
	T = append(T, instant(t, pool))
	// 4. a bulk load with the compact record (as internal/imports does):
	// two new lights, DY-001 switched off.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT set_config('villageplan.history', 'batch', true), set_config('villageplan.batch_id', 'asof-test-load', true)`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES
			('DY-100', '正常', ST_SetSRID(ST_MakePoint(125.764, 43.602), 4490)), ('DY-101', '正常', ST_SetSRID(ST_MakePoint(125.765, 43.602), 4490))`,
		`UPDATE villageplan.streetlights SET status = '停用' WHERE pole_id = 'DY-001'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var batchRows, histRows int
	pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.edit_batch WHERE batch_id = 'asof-test-load'),
		(SELECT count(*) FROM villageplan.edit_history WHERE batch_id = 'asof-test-load')`).Scan(&batchRows, &histRows)
	if batchRows != 1 || histRows != 0 {
		t.Fatalf("the load was recorded as %d batch rows and %d history rows, want the compact record (1, 0)", batchRows, histRows)
	}
	T = append(T, instant(t, pool))
	// 5. revert the delete: DY-010 comes back
	if resp, m := call(t, "editor2", "POST", fmt.Sprintf("%s/changesets/%d/revert", ts.URL, delCS), "", nil); resp.StatusCode != 201 {
		t.Fatalf("revert = %d %v", resp.StatusCode, m)
	}
	T = append(T, instant(t, pool))
	// 6. psql deletes DY-100
	if _, err := pool.Exec(ctx, `DELETE FROM villageplan.streetlights WHERE pole_id = 'DY-100'`); err != nil {
		t.Fatal(err)
	}
	T = append(T, instant(t, pool))

	want := [][]string{
		{"DY-001:正常"},
		{"DY-001:正常", "DY-010:正常"},
		{"DY-001:维修中", "DY-010:正常"},
		{"DY-001:维修中"},
		{"DY-001:停用", "DY-100:正常", "DY-101:正常"},
		{"DY-001:停用", "DY-010:正常", "DY-100:正常", "DY-101:正常"},
		{"DY-001:停用", "DY-010:正常", "DY-101:正常"},
	}
	for i, tm := range T {
		got := lightsAsOf(t, ts.URL+"/collections/streetlights/items?limit=2&datetime="+at(tm))
		if strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("as of step %d: %v, want %v", i, got, want[i])
		}
	}
	if got := lightsAsOf(t, ts.URL+"/collections/streetlights/items"); strings.Join(got, " ") != strings.Join(want[6], " ") {
		t.Errorf("current: %v, want %v", got, want[6])
	}

	// filter and bbox as of an instant
	if got := lightsAsOf(t, ts.URL+"/collections/streetlights/items?filter="+url.QueryEscape("status = '正常'")+"&datetime="+at(T[5])); strings.Join(got, " ") != "DY-010:正常 DY-100:正常 DY-101:正常" {
		t.Errorf("filter as of step 5: %v", got)
	}
	box := "&bbox=125.7629,43.6009,125.7631,43.6011"
	if got := lightsAsOf(t, ts.URL+"/collections/streetlights/items?datetime="+at(T[2])+box); strings.Join(got, " ") != "DY-010:正常" {
		t.Errorf("bbox as of step 2: %v", got)
	}
	if got := lightsAsOf(t, ts.URL+"/collections/streetlights/items?datetime="+at(T[3])+box); len(got) != 0 {
		t.Errorf("bbox as of step 3: %v, want nothing (DY-010 deleted)", got)
	}

	// a single feature
	for _, c := range []struct {
		u      string
		step   int
		code   int
		status string
	}{{u1, 1, 200, "正常"}, {u1, 2, 200, "维修中"}, {u1, 4, 200, "停用"}, {un, 0, 404, ""}, {un, 2, 200, "正常"}, {un, 3, 404, ""}, {un, 5, 200, "正常"}} {
		resp, m := call(t, "analyst", "GET", c.u+"?datetime="+at(T[c.step]), "", nil)
		if resp.StatusCode != c.code {
			t.Errorf("%s as of step %d = %d %v, want %d", c.u, c.step, resp.StatusCode, m, c.code)
			continue
		}
		if c.code == 200 {
			if p := m["properties"].(map[string]any); p["status"] != c.status {
				t.Errorf("%s as of step %d: status %v, want %s", c.u, c.step, p["status"], c.status)
			}
		}
	}

	// a download as of step 2
	resp2, body := fetch(t, "GET", ts.URL+"/collections/streetlights/items?f=csv&datetime="+at(T[2]), map[string]string{"Authorization": "Bearer analyst"})
	csv := string(body)
	if resp2.StatusCode != 200 || !strings.Contains(csv, "DY-010") || !strings.Contains(csv, "维修中") || strings.Contains(csv, "DY-101") || strings.Count(strings.TrimSpace(csv), "\n") != 2 {
		t.Errorf("CSV as of step 2 = %d:\n%s", resp2.StatusCode, csv)
	}

	// refusals name the parameter
	for _, q := range []string{
		"datetime=" + at(created.Add(-time.Hour)), // before any history
		"datetime=yesterday",
		"datetime=2026-01-01",
		"datetime=" + url.QueryEscape("2026-01-01T00:00:00Z/..")} {
		resp, m := call(t, "analyst", "GET", ts.URL+"/collections/streetlights/items?"+q, "", nil)
		if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(m["description"]), "datetime") {
			t.Errorf("?%s = %d %v, want 400 naming datetime", q, resp.StatusCode, m)
		}
	}
	if resp, m := call(t, "analyst", "GET", u1+"?datetime=nonsense", "", nil); resp.StatusCode != 400 {
		t.Errorf("single feature with a bad datetime = %d %v", resp.StatusCode, m)
	}
	if resp, m := call(t, "", "GET", ts.URL+"/collections/streetlights/items?datetime="+at(T[2]), "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous as-of = %d %v, want 401", resp.StatusCode, m)
	}

	// changes between two instants
	changes := func(from, to time.Time) []string {
		resp, m := call(t, "analyst", "GET", fmt.Sprintf("%s/collections/streetlights/changes?from=%s&to=%s", ts.URL, at(from), at(to)), "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("changes = %d %v", resp.StatusCode, m)
		}
		var out []string
		for _, f := range m["features"].([]any) {
			p := f.(map[string]any)["properties"].(map[string]any)
			s := fmt.Sprint(p["change"])
			for _, side := range []string{"old", "new"} {
				if o, ok := p[side].(map[string]any); ok {
					s += fmt.Sprintf(" %s=%v:%v", side, o["pole_id"], o["status"])
				}
			}
			out = append(out, s)
		}
		return out
	}
	for _, c := range []struct {
		from, to int
		want     string
	}{
		{1, 4, "modified old=DY-001:正常 new=DY-001:停用|removed old=DY-010:正常|added new=DY-100:正常|added new=DY-101:正常"},
		// DY-010 deleted and restored between 2 and 5: not a change
		{2, 5, "modified old=DY-001:维修中 new=DY-001:停用|added new=DY-100:正常|added new=DY-101:正常"},
		{5, 6, "removed old=DY-100:正常"},
	} {
		if got := strings.Join(changes(T[c.from], T[c.to]), "|"); got != c.want {
			t.Errorf("changes %d→%d:\n%s\nwant\n%s", c.from, c.to, got, c.want)
		}
	}
	resp, m = call(t, "analyst", "GET", fmt.Sprintf("%s/collections/streetlights/changes?from=%s&to=%s", ts.URL, at(T[3]), at(T[1])), "", nil)
	if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(m["description"]), "to") {
		t.Errorf("changes backwards = %d %v", resp.StatusCode, m)
	}
}
