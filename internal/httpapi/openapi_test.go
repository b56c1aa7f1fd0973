package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"villageplan/internal/httpapi"
	"villageplan/layers"
)

// loadAPI fetches /api from ts and loads and validates it with
// kin-openapi (the OpenAPI 3.0 schema rules: references resolve, path
// parameters are declared, operationIds unique, schemas well formed).
func loadAPI(t *testing.T, url string) *openapi3.T {
	t.Helper()
	resp, b := fetch(t, "GET", url+"/api", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != httpapi.OpenAPIMediaType {
		t.Fatalf("/api = %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("/api does not load as OpenAPI: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("/api is not a valid OpenAPI 3.0 document: %v", err)
	}
	return doc
}

// TestOpenAPIValidAndComplete: /api is a valid OpenAPI document in which
// every PermissionTable route × method (but the commented exclusions) is
// an operation with an operationId, with security exactly when the table
// asks for an account, and nothing else is documented.
func TestOpenAPIValidAndComplete(t *testing.T) {
	ts, _ := homesteadFixture(t)
	doc := loadAPI(t, ts.URL)

	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s used by %s and %s %s", op.OperationID, prev, method, path)
			}
			ids[op.OperationID] = method + " " + path
			if op.Responses.Value("500") == nil {
				t.Errorf("%s %s documents no 500 error", method, path)
			}
		}
	}

	// Every table row × method is documented; the /collections/{collectionId}/…
	// routes once per layer.
	documented := map[string]bool{} // "METHOD template" reached from the table
	for _, row := range httpapi.PermissionTable {
		if why, ok := httpapi.OpenAPIExcluded[row.Path]; ok {
			if why == "" {
				t.Errorf("exclusion of %s gives no reason", row.Path)
			}
			continue
		}
		public := slices.Contains(row.Roles, httpapi.Anonymous)
		paths := []string{row.Path}
		if strings.Contains(row.Path, "{collectionId}") {
			paths = nil
			for _, l := range layers.Default().Layers() {
				paths = append(paths, strings.Replace(row.Path, "{collectionId}", l.ID, 1))
			}
		}
		for _, m := range row.Methods {
			documented[m+" "+row.Path] = true
			for _, p := range paths {
				item := doc.Paths.Value(p)
				var op *openapi3.Operation
				if item != nil {
					op = item.GetOperation(m)
				}
				if op == nil {
					t.Errorf("route %s %s (PermissionTable) has no operation in /api: document it in apiOperations (internal/httpapi/openapi.go), "+
						"or list it in openAPIExcluded with the reason", m, p)
					continue
				}
				if op.Security == nil {
					t.Errorf("%s %s: security not stated", m, p)
				} else if public != (len(*op.Security) == 0) {
					t.Errorf("%s %s: security %v, but the table says public=%v", m, p, *op.Security, public)
				}
				if !public && op.Responses.Value("401") == nil {
					t.Errorf("%s %s needs an account but documents no 401", m, p)
				}
			}
		}
	}
	// And nothing is documented that the table does not route.
	for path, item := range doc.Paths.Map() {
		tpl := path
		for _, l := range layers.Default().Layers() {
			if rest, ok := strings.CutPrefix(path, "/collections/"+l.ID); ok {
				tpl = "/collections/{collectionId}" + rest
			}
		}
		for method := range item.Operations() {
			if !documented[method+" "+tpl] {
				t.Errorf("/api documents %s %s, which the PermissionTable does not route", method, path)
			}
		}
	}

	// f of the items lists every format the server accepts.
	items := doc.Paths.Value("/collections/homesteads/items").Get
	var f *openapi3.Parameter
	for _, p := range items.Parameters {
		if p.Value.Name == "f" {
			f = p.Value
		}
	}
	if f == nil {
		t.Fatal("items have no f parameter")
	}
	for _, want := range []string{"json", "html", "geojson", "gpkg", "shp", "csv", "kml", "jzd"} {
		if !slices.Contains(f.Schema.Value.Enum, any(want)) {
			t.Errorf("items f enum %v lacks %s", f.Schema.Value.Enum, want)
		}
		resp, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items?limit=1&f="+want, nil)
		if resp.StatusCode != 200 {
			t.Errorf("f=%s is documented but answers %d", want, resp.StatusCode)
		}
		ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
		if items.Responses.Value("200").Value.Content.Get(ct) == nil {
			t.Errorf("f=%s answers %s, not documented for the items", want, ct)
		}
	}
	for _, scheme := range []string{"session", "csrf", "bearer"} {
		if doc.Components.SecuritySchemes[scheme] == nil {
			t.Errorf("no security scheme %s", scheme)
		}
	}
}

// TestOpenAPIDescribesRealResponses validates real requests and answers
// against /api with kin-openapi's openapi3filter: a GeoJSON page, a 400
// and a 401 must each be a documented status with a body of the
// documented media type and schema.
func TestOpenAPIDescribesRealResponses(t *testing.T) {
	ts, _ := homesteadFixture(t)
	doc := loadAPI(t, ts.URL)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// HTML pages are documented as strings; kin has no decoder for them.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	ctx := context.Background()
	for _, c := range []struct {
		method, path, ctype, body string
		status                    int
	}{
		{"GET", "/collections/homesteads/items?limit=2&f=json", "", "", 200},
		{"GET", "/collections/homesteads/items?limit=2&bbox=125.7,43.6,125.9,43.7", "", "", 200},
		{"GET", "/collections/homesteads/items/1", "", "", 200},
		{"GET", "/collections/homesteads/items?limit=0", "", "", 400},
		{"GET", "/collections/homesteads/items?filter=nonsense%20%3D", "", "", 400},
		{"GET", "/collections/homesteads/items/999999", "", "", 404},
		{"GET", "/collections", "", "", 200},
		{"GET", "/changesets", "", "", 401},
		{"POST", "/changesets", "application/json", `{"operations":[]}`, 401},
		{"GET", "/ledger", "", "", 401},
		{"GET", "/healthz", "", "", 200},
		{"GET", "/collections/homesteads/items/1?f=html", "", "", 200},
		{"GET", "/collections/homesteads/items?f=csv&limit=2", "", "", 200},
		{"GET", "/collections/homesteads/queryables", "", "", 200},
		{"GET", "/api", "", "", 200},
		{"POST", "/collections/homesteads/items", "application/geo+json", `{"type":"Feature","geometry":null,"properties":{}}`, 401},
		{"GET", "/collections/homesteads?f=xml", "", "", 406},
		{"GET", "/collections/homesteads/items?datetime=yesterday", "", "", 400},
		{"GET", "/collections/homesteads/changes?from=2026-01-01T00:00:00Z", "", "", 401},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		route, pathParams, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not found in /api: %v", c.method, c.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
		if c.status < 400 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s: request does not match /api: %v", c.method, c.path, err)
			}
		}
		req2, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		req2.Header = req.Header
		resp, err := http.DefaultClient.Do(req2)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s = %d, want %d: %.300s", c.method, c.path, resp.StatusCode, c.status, b)
			continue
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(b)), Options: in.Options}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s: the %d answer does not match /api: %v", c.method, c.path, resp.StatusCode, err)
		}
	}
}
