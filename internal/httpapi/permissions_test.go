package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"villageplan/data/sample"
	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// TestPermissionTableCoversEveryRoute walks the router: every route with
// every method is a row of the permission table, and every row is a route,
// so a route added without a row fails here (and answers 403 at run time).
func TestPermissionTableCoversEveryRoute(t *testing.T) {
	srv := httpapi.New(httpapi.Options{Pool: testpg.New(t)})
	defer srv.Close()
	routes := map[string]bool{}
	err := srv.Router().Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := r.GetMethods()
		if err != nil {
			t.Errorf("route %s takes any method; restrict it with .Methods", path)
		}
		for _, m := range methods {
			routes[m+" "+path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, p := range httpapi.PermissionTable {
		for _, m := range p.Methods {
			rows[m+" "+p.Path] = true
		}
	}
	var missing, stale []string
	for k := range routes {
		if !rows[k] {
			missing = append(missing, k)
		}
	}
	for k := range rows {
		if !routes[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Errorf("routes without a permission row: %v\nrows without a route: %v", missing, stale)
	}
}

// TestPermissionTableExhaustive calls every route × method as every role —
// one account per role with a real API token, a village clerk of the
// village the stored check lies in and one of ANOTHER village — and as
// anonymous, and checks the answer against the table: a role the row
// lists is never refused (401/403) and never gets a 5xx; a role it does
// not list gets 403, anonymous 401 (LoginRequired), both with a JSON body.
// The other village's clerk is refused (403) on the check of the first
// village even though its role is listed.
func TestPermissionTableExhaustive(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	var villageA, villageB, siteA string
	if err := pool.QueryRow(ctx, `SELECT min(xzqdm), max(xzqdm) FROM (SELECT xzqdm FROM villageplan.villages ORDER BY xzqdm LIMIT 2) v`).Scan(&villageA, &villageB); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT ST_AsGeoJSON(ST_Expand(ST_PointOnSurface(geom), 0.0001))
		FROM villageplan.villages WHERE xzqdm = $1`, villageA).Scan(&siteA); err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Accounts: testAccounts(pool),
		RateLimits: map[string]httpapi.RateLimit{"siting": {}, "write": {}, "download": {}}})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	type caller struct {
		name   string
		role   httpapi.Role
		bearer string
	}
	callers := []caller{{name: "anonymous", role: httpapi.Anonymous}}
	for _, r := range auth.AllRoles {
		g := auth.Grant{Role: r}
		if r == auth.VillageClerk {
			g.Village = villageA
		}
		callers = append(callers, caller{string(r), r, bearerFor(t, pool, "u-"+strings.ReplaceAll(string(r), "_", "-"), g)})
	}
	otherClerk := caller{"village_clerk of another village", auth.VillageClerk,
		bearerFor(t, pool, "u-clerk-b", auth.Grant{Role: auth.VillageClerk, Village: villageB})}
	callers = append(callers, otherClerk)

	// A stored check in village A, made by the township window.
	var window string
	for _, c := range callers {
		if c.role == auth.TownshipWindow {
			window = c.bearer
		}
	}
	req, _ := http.NewRequest("POST", ts.URL+"/siting/checks", strings.NewReader(`{"site":`+siteA+`,"household_id":"H1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", window)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var check struct {
		ID   int64 `json:"id"`
		Site struct {
			VillageCode string `json:"village_code"`
		} `json:"site"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&check)
	resp.Body.Close()
	if resp.StatusCode != 201 || check.Site.VillageCode != villageA {
		t.Fatalf("check in village %s: %d %+v", villageA, resp.StatusCode, check)
	}
	concrete := strings.NewReplacer("{collectionId}", "homesteads", "{featureId}", "1", "{tileset}", "homesteads",
		"{z}", "16", "{x}", "54321", "{y}", "23456", "{id}", strconv.FormatInt(check.ID, 10), "{docId}", "1", "{date}", "2026-10-08", "{form}", "application")
	// Routes where a role listed by the table is still refused for the
	// other village's clerk, because the subject is of village A.
	villageScoped := map[string]bool{"/siting/checks": true, "/siting/checks/{id}": true, "/siting/checks/{id}/report": true}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	calls := 0
	for _, p := range httpapi.PermissionTable {
		path := concrete.Replace(p.Path)
		switch p.Path {
		case "/web/":
			path = "/web/app.css"
		case "/account/tokens/{id}", "/admin/users/{id}":
			// No such token or user: the callers' own tokens stay valid.
			path = strings.ReplaceAll(p.Path, "{id}", "999999")
		}
		for _, m := range p.Methods {
			for _, c := range callers {
				body := ""
				if m == http.MethodPost && p.Path == "/siting/checks" {
					body = `{"site":` + siteA + `}`
				}
				req, _ := http.NewRequest(m, ts.URL+path, strings.NewReader(body))
				if m != http.MethodGet && m != http.MethodHead {
					req.Header.Set("Content-Type", "application/json")
				}
				if c.bearer != "" {
					req.Header.Set("Authorization", c.bearer)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				calls++
				allowed := slices.Contains(p.Roles, c.role) || slices.Contains(p.Roles, httpapi.Anonymous)
				want := 0 // any status but 401, 403 and 5xx
				switch {
				case !allowed && c.role == httpapi.Anonymous:
					want = 401
				case !allowed:
					want = 403
				case c.name == otherClerk.name && villageScoped[p.Path]:
					want = 403
				}
				got := resp.StatusCode
				switch {
				case want == 0 && (got == 401 || got == 403 || got >= 500):
					t.Errorf("%s %s as %s: %d %.200s, the table allows it", m, path, c.name, got, b)
				case want != 0 && got != want:
					t.Errorf("%s %s as %s: %d %.200s, want %d", m, path, c.name, got, b, want)
				case want != 0 && m != http.MethodHead && !strings.Contains(string(b), `"code"`):
					t.Errorf("%s %s as %s: %d without a JSON body: %.200s", m, path, c.name, got, b)
				}
			}
		}
	}
	if calls < len(httpapi.PermissionTable)*len(callers) {
		t.Fatalf("only %d calls for %d rows × %d callers", calls, len(httpapi.PermissionTable), len(callers))
	}
}

// TestUnlistedRouteIsRefused: a route mounted without a permission row is
// refused with 403 before its handler runs (deny by default).
func TestUnlistedRouteIsRefused(t *testing.T) {
	srv := httpapi.New(httpapi.Options{})
	defer srv.Close()
	ran := false
	srv.Router().HandleFunc("/unlisted", func(w http.ResponseWriter, r *http.Request) { ran = true }).Methods(http.MethodGet)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, b := fetch(t, "GET", ts.URL+"/unlisted", nil)
	if resp.StatusCode != 403 || ran || !strings.Contains(string(b), `"code":"Forbidden"`) {
		t.Fatalf("unlisted route: %d ran=%v %s", resp.StatusCode, ran, b)
	}
}
