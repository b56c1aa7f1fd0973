package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// concrete fills a route template with values that name real things of the
// test database (a layer, feature 1, a tile, a check id).
var concrete = strings.NewReplacer("{collectionId}", "homesteads", "{featureId}", "1", "{tileset}", "homesteads",
	"{z}", "16", "{x}", "54321", "{y}", "23456", "{id}", "1", "{docId}", "1", "{date}", "2026-10-08")

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

// TestPermissionTableExhaustive calls every route × method as every role
// and checks the answer against the table: a role the row lists is never
// refused (403) and never gets a 5xx; a role it does not list gets 403 with
// a JSON body.
func TestPermissionTableExhaustive(t *testing.T) {
	// Each role calls with a token naming it (township-wide grant), through
	// the test double roleAuth until the accounts' Authenticator lands.
	srv := httpapi.New(httpapi.Options{Pool: testpg.New(t), Authenticator: roleAuth{}})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	calls := 0
	for _, p := range httpapi.PermissionTable {
		path := concrete.Replace(p.Path)
		if p.Path == "/web/" {
			path = "/web/app.css"
		}
		for _, m := range p.Methods {
			for _, role := range httpapi.Roles {
				req, _ := http.NewRequest(m, ts.URL+path, nil)
				if role != httpapi.Anonymous {
					req.Header.Set("Authorization", "Bearer role:"+string(role))
				}
				if m == http.MethodPost {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				calls++
				allowed := slices.Contains(p.Roles, role)
				switch {
				case allowed && (resp.StatusCode == 403 || resp.StatusCode >= 500):
					t.Errorf("%s %s as %s: %d, the table allows it", m, path, role, resp.StatusCode)
				case !allowed && resp.StatusCode != 403:
					t.Errorf("%s %s as %s: %d, want 403", m, path, role, resp.StatusCode)
				}
			}
		}
	}
	if calls < len(httpapi.PermissionTable) {
		t.Fatalf("only %d calls for %d rows", calls, len(httpapi.PermissionTable))
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

// roleAuth authenticates "Bearer role:X" as a user holding role X for the
// whole township (a test double of the accounts' Authenticator).
type roleAuth struct{}

func (roleAuth) Authenticate(r *http.Request) (*auth.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer role:")
	if !ok {
		return nil, nil
	}
	return &auth.Principal{UserID: 1, Username: tok, Grants: []auth.Grant{{Role: auth.Role(tok)}}}, nil
}
