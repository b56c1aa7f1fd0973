package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"villageplan/internal/applications"
	"villageplan/internal/exports"
	"villageplan/internal/features"
	"villageplan/internal/qgisproject"
	"villageplan/layers"
)

// OpenAPIMediaType is the media type of GET /api (OpenAPI 3.0, JSON).
const OpenAPIMediaType = "application/vnd.oai.openapi+json;version=3.0"

// openAPIExcluded are the PermissionTable routes (path templates) that
// /api leaves out on purpose: browser pages, their static files and
// redirects, which are not an API. Every other row × method of the table
// is an operation of the document (TestOpenAPIComplete checks it).
var openAPIExcluded = map[string]string{
	"/map":          "web map page (text/html)",
	"/map/":         "redirect to /map",
	"/desk":         "desk page (text/html)",
	"/desk/":        "redirect to /desk",
	"/construction": "project library page (text/html)",
	"/assessment":   "考核评估 dashboard page (text/html)",
	"/web/":         "static files of the pages (a path prefix, not one route)",
	"/favicon.ico":  "browser icon",
}

// itemFormats are the f= values of GET /collections/{id}/items: the paged
// views (json, html) and the whole-result downloads (exports.Formats).
var itemFormats = []string{"json", "html", "geojson", "gpkg", "shp", "csv", "kml", "jzd"}

// downloadLabel names a download format for links and the HTML pages
// (Chinese and English).
func downloadLabel(f exports.Format) string {
	switch f {
	case exports.GeoJSON:
		return "GeoJSON 文件（全部要素）/ GeoJSON file (all features)"
	case exports.GeoPackage:
		return "GeoPackage 文件 / GeoPackage file"
	case exports.Shapefile:
		return "Shapefile（zip 压缩包）/ Shapefile (zip)"
	case exports.CSV:
		return "CSV 表格（WKT 几何）/ CSV table (WKT geometry)"
	case exports.KML:
		return "KML 文件（Google 地球）/ KML file (Google Earth)"
	case exports.JZD:
		return "界址点坐标文件（TXT，GBK）/ boundary-point coordinate file (TXT, GBK)"
	}
	return string(f)
}

// openAPI serves the OpenAPI 3.0 definition (buildOpenAPI) as JSON, or
// the list of its paths as HTML.
func (fr *featureRoutes) openAPI(w http.ResponseWriter, r *http.Request) {
	format := wantsFormat(w, r, "json", "html")
	if format == "" {
		return
	}
	doc := buildOpenAPI(fr.s.catalog, fr.s.baseURL(r), PermissionTable)
	if format == "html" {
		list := make([]string, 0, doc.Paths.Len())
		for p, item := range doc.Paths.Map() {
			for m, op := range item.Operations() {
				list = append(list, fmt.Sprintf("%s %s — %s (%s)", m, p, op.Summary, op.OperationID))
			}
		}
		sort.Strings(list)
		renderHTML(w, "api", &pageData{Title: "API", Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Classes: list})
		return
	}
	WriteJSONTyped(w, http.StatusOK, OpenAPIMediaType, doc)
}

// Media types of the document.
const (
	mtJSON    = "application/json"
	mtGeoJSON = "application/geo+json"
	mtHTML    = "text/html"
	mtPDF     = "application/pdf"
	mtXLSX    = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mtCSV     = "text/csv"
	mtMVT     = "application/vnd.mapbox-vector-tile"
	mtSchema  = "application/schema+json"
	mtMerge   = "application/merge-patch+json"
	mtText    = "text/plain"
	mtForm    = "application/x-www-form-urlencoded"
)

// errorText is the description of each error status the service answers.
var errorText = map[int]string{
	400: "bad request: the parameter, field or feature at fault and what to do (中文 and English)",
	401: "not logged in, or the session/API token is not valid (LoginRequired, …)",
	403: "the route is not open to the principal's roles or villages, a one-time password must be changed first, or the CSRF token is missing",
	404: "no such collection, feature or record",
	406: "the f= format or Accept media type is not offered here",
	409: "conflict: the state changed (a later edit, an application in another state, a duplicate)",
	412: "If-Match does not match the current ETag: someone else changed it since it was read",
	413: "the request body is larger than the limit",
	415: "the request body's Content-Type is not accepted here",
	422: "the body is well formed but breaks a rule (geometry, code list, workflow)",
	428: "If-Match is required",
	429: "too many requests from this client (Retry-After says when to retry)",
	500: "internal error (logged with the request id)",
	503: "the database is unavailable, a statement timed out, or too many downloads run at once (Retry-After)",
}

// apiOp is one operation of the document before it is typed.
type apiOp struct {
	method, path string // path as in the document (a layer's id filled in)
	template     string // PermissionTable path; "" when path is it
	id, summary  string
	tags         []string
	params       []*openapi3.ParameterRef
	body         *openapi3.RequestBody
	ok           map[int]*openapi3.Response
	errs         []int
}

// buildOpenAPI builds the typed OpenAPI 3.0 document of every route in
// table (but openAPIExcluded), with security per operation from the
// table's roles (public rows: none). The /collections/{collectionId}/…
// routes are written out per layer of the catalog so that each items path
// lists its layer's queryable properties (GDAL's OAPIF driver reads them
// from here to decide which attribute filters it may send).
func buildOpenAPI(catalog *layers.Catalog, base string, table []RoutePermission) *openapi3.T {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{Title: "villageplan — 双营子回族乡村庄规划一张图", Version: "1",
			Description: "OGC API – Features (Part 1 Core, Part 2 CRS, Part 3 Filtering with CQL2 text, Part 4 Create/Replace/Update/Delete) " +
				"over the township's planning layers, stored in CGCS2000 (EPSG:4490); vector tiles; the homestead (宅基地) approval desk; " +
				"siting checks. Errors are JSON objects {code, description, …} with the description in Chinese and English.\n\n" +
				"GDAL/QGIS (OAPIF): GDAL 3.6 asks for 10 features per page; add `-oo PAGE_SIZE=1000` (the maximum is " +
				fmt.Sprint(features.MaxLimit) + ") to copy a layer in a few requests."},
		Servers: openapi3.Servers{{URL: base}},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:         openapi3.Schemas{},
			Parameters:      openapi3.ParametersMap{},
			Responses:       openapi3.ResponseBodies{},
			SecuritySchemes: openapi3.SecuritySchemes{},
		},
	}
	c := doc.Components
	c.Schemas["exception"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
		WithProperty("code", openapi3.NewStringSchema()).
		WithProperty("description", openapi3.NewStringSchema()).
		WithRequired([]string{"code"}).WithAnyAdditionalProperties())
	c.Schemas["link"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
		WithProperty("href", openapi3.NewStringSchema()).WithProperty("rel", openapi3.NewStringSchema()).
		WithProperty("type", openapi3.NewStringSchema()).WithProperty("title", openapi3.NewStringSchema()).
		WithRequired([]string{"href", "rel"}))
	c.Schemas["featureCollection"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
		WithProperty("type", openapi3.NewStringSchema().WithEnum("FeatureCollection")).
		WithProperty("features", openapi3.NewArraySchema().WithItems(openapi3.NewObjectSchema())).
		WithProperty("numberReturned", openapi3.NewIntegerSchema().WithMin(0)).
		WithProperty("numberMatched", openapi3.NewIntegerSchema().WithMin(0)).
		WithProperty("timeStamp", openapi3.NewDateTimeSchema()).
		WithPropertyRef("links", &openapi3.SchemaRef{Value: openapi3.NewArraySchema().WithItems(&openapi3.Schema{})}).
		WithRequired([]string{"type", "features"}))
	c.Schemas["feature"] = openapi3.NewSchemaRef("", openapi3.NewObjectSchema().
		WithProperty("type", openapi3.NewStringSchema().WithEnum("Feature")).
		WithProperty("geometry", openapi3.NewObjectSchema().WithNullable()).
		WithProperty("properties", openapi3.NewObjectSchema().WithNullable()).
		WithRequired([]string{"type", "geometry", "properties"}))
	for _, st := range sortedKeys(errorText) {
		c.Responses[fmt.Sprint(st)] = &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(errorText[st]).
			WithContent(openapi3.NewContentWithSchemaRef(openapi3.NewSchemaRef("#/components/schemas/exception", nil), []string{mtJSON}))}
	}
	c.SecuritySchemes["session"] = &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("apiKey").
		WithIn("cookie").WithName("villageplan_session").
		WithDescription("browser session from POST /login; a state-changing request must also send the csrf scheme")}
	c.SecuritySchemes["csrf"] = &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("apiKey").
		WithIn("header").WithName(csrfHeader).
		WithDescription("the session's CSRF token (csrf_token of GET /account); required with the session cookie on POST/PUT/PATCH/DELETE")}
	c.SecuritySchemes["bearer"] = &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("http").
		WithScheme("bearer").WithDescription("API token (POST /account/tokens), for scripts; no CSRF token needed")}

	p := newParams(c)
	perms := indexPermissions(table)
	for _, op := range apiOperations(catalog, p) {
		perm := perms[op.method+" "+op.templ()]
		o := openapi3.NewOperation()
		o.OperationID, o.Summary, o.Tags = op.id, op.summary, op.tags
		o.Parameters = op.params
		if op.body != nil {
			o.RequestBody = &openapi3.RequestBodyRef{Value: op.body}
		}
		errs := slices.Clone(op.errs)
		if perm != nil && !slices.Contains(perm.Roles, Anonymous) {
			sec := openapi3.NewSecurityRequirements().With(openapi3.NewSecurityRequirement().Authenticate("session"))
			if op.method != http.MethodGet {
				sec = openapi3.NewSecurityRequirements().With(openapi3.NewSecurityRequirement().Authenticate("session").Authenticate("csrf"))
			}
			sec.With(openapi3.NewSecurityRequirement().Authenticate("bearer"))
			o.Security = sec
			errs = append(errs, 401, 403)
			roles := make([]string, len(perm.Roles))
			for i, r := range perm.Roles {
				roles[i] = string(r)
			}
			o.Extensions = map[string]any{"x-roles": roles}
			o.Description = "角色 / roles: " + roleList(perm.Roles) + "."
		} else {
			o.Security = openapi3.NewSecurityRequirements() // public
		}
		if perm != nil && perm.Note != "" {
			o.Description = strings.TrimSpace(o.Description + " " + perm.Note)
		}
		if op.method != http.MethodGet {
			errs = append(errs, 429)
		}
		errs = append(errs, 500, 503)
		o.Responses = openapi3.NewResponses()
		o.Responses.Delete("default")
		for st, resp := range op.ok {
			o.Responses.Set(fmt.Sprint(st), &openapi3.ResponseRef{Value: resp})
		}
		for _, st := range errs {
			o.Responses.Set(fmt.Sprint(st), &openapi3.ResponseRef{Ref: fmt.Sprintf("#/components/responses/%d", st)})
		}
		item := doc.Paths.Value(op.path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(op.path, item)
		}
		item.SetOperation(op.method, o)
		// HEAD: the same answer without a body (where the table allows it).
		if op.method == http.MethodGet && perm != nil && slices.Contains(perm.Methods, http.MethodHead) {
			h := *o
			h.OperationID = headID(op.id)
			h.Summary = "HEAD: " + op.summary
			h.Responses = openapi3.NewResponses()
			h.Responses.Delete("default")
			for st := range op.ok {
				h.Responses.Set(fmt.Sprint(st), &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("as GET, without the body")})
			}
			for _, st := range errs {
				h.Responses.Set(fmt.Sprint(st), &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(errorText[st] + " (no body)")})
			}
			item.SetOperation(http.MethodHead, &h)
		}
	}
	return doc
}

func (op apiOp) templ() string {
	if op.template != "" {
		return op.template
	}
	return op.path
}

// headID is the operationId of the HEAD twin of a GET operation.
func headID(id string) string {
	if rest, ok := strings.CutPrefix(id, "get"); ok {
		return "head" + rest
	}
	return "head_" + id
}

func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// params are the shared parameters (components/parameters) as references.
type params struct {
	bbox, bboxCRS, crs, limit, offset, f, itemF, filter, filterLang, filterCRS, properties, sortby, datetime, encoding *openapi3.ParameterRef
	collectionID, featureID, id, ifMatch, contentCRS, message                                                          *openapi3.ParameterRef
	// limitValue is the limit parameter itself, for inline use.
	limitValue *openapi3.Parameter
}

func newParams(c *openapi3.Components) params {
	add := func(name string, p *openapi3.Parameter) *openapi3.ParameterRef {
		c.Parameters[name] = &openapi3.ParameterRef{Value: p}
		return &openapi3.ParameterRef{Ref: "#/components/parameters/" + name}
	}
	form := func(p *openapi3.Parameter) *openapi3.Parameter {
		explode := false
		p.Style, p.Explode = "form", &explode
		return p
	}
	ps := params{
		bbox: add("bbox", form(openapi3.NewQueryParameter("bbox").WithDescription("minimum and maximum of axis 1 and 2 in the axis order of bbox-crs (CRS84: lon,lat)").
			WithSchema(openapi3.NewArraySchema().WithItems(openapi3.NewFloat64Schema()).WithMinItems(4).WithMaxItems(6)))),
		bboxCRS: add("bbox-crs", openapi3.NewQueryParameter("bbox-crs").WithDescription("CRS of bbox, an OGC CRS URI (default CRS84)").
			WithSchema(openapi3.NewStringSchema().WithFormat("uri"))),
		crs: add("crs", openapi3.NewQueryParameter("crs").WithDescription("output CRS, one of the collection's crs list (default CRS84)").
			WithSchema(openapi3.NewStringSchema().WithFormat("uri"))),
		limit: add("limit", openapi3.NewQueryParameter("limit").WithDescription(fmt.Sprintf("features per page (default %d, at most %d); a download is the whole result unless limit is given", features.DefaultLimit, features.MaxLimit)).
			WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(float64(features.MaxLimit)).WithDefault(features.DefaultLimit))),
		offset: add("offset", openapi3.NewQueryParameter("offset").WithDescription("features to skip").
			WithSchema(openapi3.NewIntegerSchema().WithMin(0).WithDefault(0))),
		f: add("f", openapi3.NewQueryParameter("f").WithDescription("response format (else Accept decides: text/html for browsers)").
			WithSchema(openapi3.NewStringSchema().WithEnum("json", "html"))),
		itemF: add("f-items", openapi3.NewQueryParameter("f").WithDescription("json/html: a page; geojson, gpkg (GeoPackage), shp (zipped Shapefile), csv, kml, jzd (界址点 TXT): a download of the whole result").
			WithSchema(openapi3.NewStringSchema().WithEnum(toAny(itemFormats)...))),
		filter: add("filter", openapi3.NewQueryParameter("filter").WithDescription("CQL2 text filter over the queryables (OGC API – Features Part 3)").
			WithSchema(openapi3.NewStringSchema())),
		filterLang: add("filter-lang", openapi3.NewQueryParameter("filter-lang").WithSchema(openapi3.NewStringSchema().WithEnum("cql2-text", "cql2-json").WithDefault("cql2-text"))),
		filterCRS: add("filter-crs", openapi3.NewQueryParameter("filter-crs").WithDescription("CRS of the filter's geometries (default CRS84)").
			WithSchema(openapi3.NewStringSchema().WithFormat("uri"))),
		properties: add("properties", form(openapi3.NewQueryParameter("properties").WithDescription("comma-separated properties to return").
			WithSchema(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())))),
		sortby: add("sortby", form(openapi3.NewQueryParameter("sortby").WithDescription("comma-separated properties, prefix - for descending").
			WithSchema(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())))),
		datetime: add("datetime", openapi3.NewQueryParameter("datetime").WithDescription("an RFC 3339 instant: the features as they were then (signed-in only, 401 otherwise); a value that is not an instant is a 400 naming datetime").
			WithSchema(openapi3.NewStringSchema())),
		encoding: add("encoding", openapi3.NewQueryParameter("encoding").WithDescription("text encoding of csv, shp (DBF) and jzd downloads (jzd defaults to GBK)").
			WithSchema(openapi3.NewStringSchema().WithEnum("UTF-8", "GBK"))),
		collectionID: add("collectionId", openapi3.NewPathParameter("collectionId").WithSchema(openapi3.NewStringSchema())),
		featureID: add("featureId", openapi3.NewPathParameter("featureId").WithDescription("feature id, a positive whole number").
			WithSchema(openapi3.NewInt64Schema().WithMin(1))),
		id: add("id", openapi3.NewPathParameter("id").WithSchema(openapi3.NewInt64Schema().WithMin(1))),
		ifMatch: add("If-Match", openapi3.NewHeaderParameter("If-Match").WithRequired(true).
			WithDescription("the ETag as read (412 when it changed since, 428 without)").WithSchema(openapi3.NewStringSchema())),
		contentCRS: add("Content-Crs", openapi3.NewHeaderParameter("Content-Crs").WithDescription("CRS of the body's coordinates, <URI> (default CRS84), in the CRS's axis order").
			WithSchema(openapi3.NewStringSchema())),
		message: add("message", openapi3.NewQueryParameter("message").WithDescription("changeset message").WithSchema(openapi3.NewStringSchema())),
	}
	ps.limitValue = c.Parameters["limit"].Value
	return ps
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// printKinds are the documents of /applications/{id}/print/{document}.
func printKinds() []any {
	out := make([]any, len(applications.PrintKinds))
	for i, k := range applications.PrintKinds {
		out[i] = string(k)
	}
	return out
}

// required marks a parameter required.
func required(p *openapi3.ParameterRef) *openapi3.ParameterRef {
	p.Value.Required = true
	return p
}

func qp(name, desc string, s *openapi3.Schema) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Value: openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(s)}
}

func pathParam(name, desc string, s *openapi3.Schema) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Value: openapi3.NewPathParameter(name).WithDescription(desc).WithSchema(s)}
}

// content is a response or body content of the media types, each with
// schema s (nil: any).
func content(s *openapi3.SchemaRef, types ...string) openapi3.Content {
	c := openapi3.NewContent()
	for _, t := range types {
		mt := openapi3.NewMediaType()
		if s != nil {
			mt.Schema = s
		} else if t == mtJSON || t == mtGeoJSON || t == mtSchema || t == mtMerge || strings.HasSuffix(t, "+json") || strings.Contains(t, "openapi+json") {
			mt.Schema = openapi3.NewObjectSchema().NewRef()
		} else {
			mt.Schema = openapi3.NewStringSchema().NewRef()
			if t != mtHTML && t != mtText && t != mtCSV && !strings.HasPrefix(t, "text/") {
				mt.Schema.Value.Format = "binary"
			}
		}
		c[t] = mt
	}
	return c
}

func ok(desc string, types ...string) map[int]*openapi3.Response {
	return map[int]*openapi3.Response{200: openapi3.NewResponse().WithDescription(desc).WithContent(content(nil, types...))}
}

func okRef(desc, schema string, types ...string) map[int]*openapi3.Response {
	return map[int]*openapi3.Response{200: openapi3.NewResponse().WithDescription(desc).
		WithContent(content(openapi3.NewSchemaRef("#/components/schemas/"+schema, nil), types...))}
}

func status(st int, desc string, types ...string) map[int]*openapi3.Response {
	r := openapi3.NewResponse().WithDescription(desc)
	if len(types) > 0 {
		r.WithContent(content(nil, types...))
	}
	return map[int]*openapi3.Response{st: r}
}

func with(m map[int]*openapi3.Response, more map[int]*openapi3.Response) map[int]*openapi3.Response {
	for k, v := range more {
		m[k] = v
	}
	return m
}

func body(desc string, types ...string) *openapi3.RequestBody {
	return openapi3.NewRequestBody().WithRequired(true).WithDescription(desc).WithContent(content(nil, types...))
}

// apiOperations lists every documented operation.
func apiOperations(catalog *layers.Catalog, p params) []apiOp {
	ogc, tiles, acc, app, ed, sit, web, ops := []string{"OGC API – Features"}, []string{"tiles"}, []string{"accounts"},
		[]string{"applications (宅基地审批)"}, []string{"editing (Part 4)"}, []string{"siting"}, []string{"map and desk data"}, []string{"operations"}
	ind := []string{"indicators (乡村建设)"}
	pageF := []*openapi3.ParameterRef{p.f}
	list := []apiOp{
		{method: "GET", path: "/healthz", id: "getHealthz", summary: "process up", tags: ops, ok: ok("{status: ok}", mtJSON)},
		{method: "GET", path: "/readyz", id: "getReadyz", summary: "database reachable and migrated", tags: ops, ok: ok("ready", mtJSON)},
		{method: "GET", path: "/metrics", id: "getMetrics", summary: "Prometheus metrics", tags: ops, ok: ok("text exposition format", mtText)},
		{method: "GET", path: "/", id: "getLandingPage", summary: "landing page", tags: ogc, params: pageF, ok: ok("links to the API, conformance and collections", mtJSON, mtHTML), errs: []int{406}},
		{method: "GET", path: "/conformance", id: "getConformance", summary: "conformance classes", tags: ogc, params: pageF, ok: ok("conformsTo", mtJSON, mtHTML), errs: []int{406}},
		{method: "GET", path: "/api", id: "getAPI", summary: "this OpenAPI definition", tags: ogc, params: pageF, ok: ok("OpenAPI 3.0", OpenAPIMediaType, mtHTML), errs: []int{406}},
		{method: "GET", path: "/collections", id: "getCollections", summary: "the layers", tags: ogc, params: pageF, ok: ok("collections with links to items, downloads, queryables, coverage and tiles", mtJSON, mtHTML), errs: []int{406}},
		// Tiles and styles.
		{method: "GET", path: "/tiles/{tileset}/{z}/{x}/{y}.mvt", id: "getTile", summary: "a Mapbox vector tile (WebMercatorQuad)", tags: tiles,
			params: []*openapi3.ParameterRef{pathParam("tileset", "tileset id (see the TileJSON)", openapi3.NewStringSchema()),
				pathParam("z", "zoom", openapi3.NewIntegerSchema().WithMin(0)), pathParam("x", "column", openapi3.NewIntegerSchema().WithMin(0)),
				pathParam("y", "row", openapi3.NewIntegerSchema().WithMin(0)),
				qp("datetime", "an RFC 3339 instant: the tile as of then (signed-in only, 401 otherwise; Cache-Control private); "+
					"400 naming datetime for a value that is not an instant or, on a layer's tileset, one before the layer's recorded history; "+
					"an instant in the future is now", openapi3.NewStringSchema())},
			ok: with(ok("the tile (gzip-encoded where Accept-Encoding allows)", mtMVT), status(204, "no features (outside the zoom range or empty)")), errs: []int{400, 401, 404}},
		{method: "GET", path: "/tiles/{tileset}.json", id: "getTileJSON", summary: "TileJSON 3.0 of a tileset", tags: tiles,
			params: []*openapi3.ParameterRef{pathParam("tileset", "tileset id", openapi3.NewStringSchema()),
				qp("datetime", "an RFC 3339 instant, passed on into the tile URL (?datetime=…)", openapi3.NewStringSchema())},
			ok: ok("TileJSON", mtJSON), errs: []int{400, 404}},
		{method: "GET", path: "/styles/default.json", id: "getStyle", summary: "MapLibre style of the one-map", tags: tiles,
			params: []*openapi3.ParameterRef{qp("datetime", "an RFC 3339 instant, passed on into the source's TileJSON URL (the map as of then)", openapi3.NewStringSchema())},
			ok:     ok("style", mtJSON), errs: []int{400}},
		{method: "GET", path: "/qgis/villageplan.qgs", id: "getQGISProject", summary: "the one-map as a QGIS project: every layer as an OAPIF layer of this service, styled, in EPSG:4530", tags: tiles, ok: ok("QGIS 3 project (XML)", qgisproject.ContentType)},
	}
	var tileOK map[int]*openapi3.Response
	// OGC API – Tiles (ogctiles.go): the same tiles, discovered from the
	// landing page and the collections.
	tmsPath := []*openapi3.ParameterRef{pathParam("tileMatrix", "zoom level of WebMercatorQuad", openapi3.NewStringSchema().WithPattern(`^[0-9]+$`)),
		pathParam("tileRow", "row (y)", openapi3.NewIntegerSchema().WithMin(0)), pathParam("tileCol", "column (x)", openapi3.NewIntegerSchema().WithMin(0))}
	tileOK = with(ok("the tile (gzip-encoded where Accept-Encoding allows)", mtMVT), status(204, "no features (outside the zoom range or empty)"))
	list = append(list,
		apiOp{method: "GET", path: "/tileMatrixSets", id: "getTileMatrixSetsList", summary: "tile matrix sets (WebMercatorQuad)", tags: tiles, ok: ok("tileMatrixSets", mtJSON)},
		apiOp{method: "GET", path: "/tileMatrixSets/WebMercatorQuad", id: "getTileMatrixSet", summary: "WebMercatorQuad definition (OGC 17-083r4)", tags: tiles, ok: ok("tile matrix set", mtJSON)},
		apiOp{method: "GET", path: "/tiles", id: "getDatasetTilesets", summary: "vector tilesets of the whole map", tags: tiles, ok: ok("tilesets", mtJSON)},
		apiOp{method: "GET", path: "/tiles/WebMercatorQuad", id: "getDatasetTileset", summary: "tileset metadata of the whole map", tags: tiles, ok: ok("tileset metadata (OGC 17-083r4)", mtJSON), errs: []int{503}},
		apiOp{method: "GET", path: "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", id: "getDatasetTile", summary: "a map tile (all layers)", tags: tiles, params: tmsPath, ok: tileOK, errs: []int{400}},
	)
	list = append(list, []apiOp{
		// Siting.
		{method: "POST", path: "/siting/checks", id: "createSitingCheck", summary: "check a homestead site against the rules and store the result", tags: sit,
			params: []*openapi3.ParameterRef{
				qp("household_id", "with a text/plain body", openapi3.NewStringSchema()), qp("village_code", "with a text/plain body", openapi3.NewStringSchema()),
				qp("returns_old_homestead", "with a text/plain body", openapi3.NewBoolSchema()), qp("rebuild_in_place", "with a text/plain body", openapi3.NewBoolSchema())},
			body: body("a GeoJSON site with the household's answers (application/json), or a 界址点 coordinate file (text/plain, GBK or UTF-8)", mtJSON, mtGeoJSON, mtText, "application/octet-stream"),
			ok:   status(201, "the stored check with its verdict per rule (Location: the check)", mtJSON), errs: []int{400, 413, 415, 422}},
		{method: "GET", path: "/siting/checks/{id}", id: "getSitingCheck", summary: "a stored siting check", tags: sit, params: []*openapi3.ParameterRef{p.id}, ok: ok("the check", mtJSON), errs: []int{404}},
		{method: "GET", path: "/siting/checks/{id}/report", id: "getSitingReport", summary: "the check's 选址审查报告: HTML, or PDF with f=pdf", tags: sit,
			params: []*openapi3.ParameterRef{p.id, qp("f", "pdf for the PDF (default: the HTML page)", openapi3.NewStringSchema().WithEnum("html", "pdf"))},
			ok:     ok("report", mtHTML, mtPDF), errs: []int{404}},
		{method: "GET", path: "/siting/ruleset", id: "getSitingRuleset", summary: "the siting rules and their legal sources", tags: sit, ok: ok("ruleset", mtJSON)},
		// Map and desk data.
		{method: "GET", path: "/map/meta.json", id: "getMapMeta", summary: "layers, legends and extents of the web map", tags: web, ok: ok("meta", mtJSON)},
		{method: "GET", path: "/map/villages", id: "getMapVillages", summary: "villages by name (search)", tags: web,
			params: []*openapi3.ParameterRef{qp("q", "part of a name", openapi3.NewStringSchema()), qp("limit", "at most", openapi3.NewIntegerSchema().WithMin(1))},
			ok:     ok("villages", mtJSON), errs: []int{400}},
		{method: "GET", path: "/map/views/streetlight-coverage.geojson", id: "getStreetlightCoverage", summary: "street-light coverage view", tags: web, ok: ok("coverage", mtGeoJSON)},
		{method: "GET", path: "/map/versions.json", id: "getLayerVersions", summary: "every layer's version (what tile ETags are made of); open maps poll it to reload changed tiles", tags: web, ok: ok("{layers: {id: version}}", mtJSON)},
		{method: "POST", path: "/map/measure", id: "measure", summary: "length, or area and perimeter, of a CRS84 LineString or Polygon on the Gauss-Krüger plane the siting checks use", tags: web,
			body: body(`{"geometry": a GeoJSON LineString or Polygon in CRS84}`, mtJSON), ok: ok("measurement", mtJSON), errs: []int{400, 413}},
		{method: "POST", path: "/desk/preview", id: "previewSite", summary: "area and 四至 of a site; nothing stored", tags: web,
			body: body("a GeoJSON site", mtJSON, mtGeoJSON), ok: ok("preview", mtJSON), errs: []int{400, 413, 415, 422}},
		// Accounts.
		{method: "GET", path: "/login", id: "getLoginPage", summary: "login form", tags: acc, params: []*openapi3.ParameterRef{qp("next", "page to return to", openapi3.NewStringSchema())}, ok: ok("form", mtHTML)},
		{method: "POST", path: "/login", id: "login", summary: "open a session (sets the session cookie); throttled per account and address", tags: acc,
			body: body("{username, password} (JSON) or the login form", mtJSON, mtForm), ok: with(ok("the session's account and CSRF token", mtJSON), status(303, "form login: redirect to next")),
			errs: []int{400, 401, 413, 415}},
		{method: "POST", path: "/logout", id: "logout", summary: "end the session", tags: acc, ok: with(status(204, "logged out"), status(303, "form logout: redirect"))},
		{method: "GET", path: "/account", id: "getAccount", summary: "who am I: roles, villages, CSRF token ({authenticated: false} for anonymous)", tags: acc, ok: ok("account", mtJSON)},
		{method: "POST", path: "/account/password", id: "changePassword", summary: "change one's own password", tags: acc,
			body: body("{current, new} (JSON) or the password form", mtJSON, mtForm), ok: with(ok("{changed: true}", mtJSON), status(303, "form: redirect")), errs: []int{400, 413, 415, 422}},
		{method: "GET", path: "/account/tokens", id: "listTokens", summary: "one's API tokens (never their secrets)", tags: acc, ok: ok("tokens", mtJSON)},
		{method: "POST", path: "/account/tokens", id: "createToken", summary: "new API token; the secret is shown once", tags: acc,
			body: body("{name, expires}", mtJSON), ok: status(201, "the token and its secret", mtJSON), errs: []int{400, 413, 415}},
		{method: "DELETE", path: "/account/tokens/{id}", id: "revokeToken", summary: "revoke one's API token", tags: acc, params: []*openapi3.ParameterRef{p.id}, ok: status(204, "revoked"), errs: []int{404}},
		{method: "GET", path: "/admin/users", id: "listUsers", summary: "every account and its roles", tags: acc, ok: ok("users", mtJSON)},
		{method: "POST", path: "/admin/users", id: "createUser", summary: "new account with a one-time password", tags: acc,
			body: body("{username, roles, …}", mtJSON), ok: status(201, "the account and its one-time password", mtJSON), errs: []int{400, 409, 413, 415}},
		{method: "PATCH", path: "/admin/users/{id}", id: "updateUser", summary: "disable/enable, roles, password reset", tags: acc, params: []*openapi3.ParameterRef{p.id},
			body: body("the changes", mtJSON), ok: ok("the account", mtJSON), errs: []int{400, 404, 409, 413, 415}},
		// Applications.
		{method: "GET", path: "/applications", id: "listApplications", summary: "applications with counts per state, scoped to one's villages", tags: app,
			params: []*openapi3.ParameterRef{qp("state", "workflow state", openapi3.NewStringSchema()), qp("village", "village code", openapi3.NewStringSchema()),
				qp("q", "search", openapi3.NewStringSchema()), qp("year", "year filed", openapi3.NewIntegerSchema().WithMin(0)),
				qp("limit", "page size", openapi3.NewIntegerSchema().WithMin(0)), qp("offset", "skip", openapi3.NewIntegerSchema().WithMin(0))},
			ok: ok("applications", mtJSON), errs: []int{400}},
		{method: "POST", path: "/applications", id: "createApplication", summary: "file an application", tags: app,
			body: body("the form and the site", mtJSON), ok: status(201, "the application (Location, ETag)", mtJSON), errs: []int{400, 409, 413, 415, 422}},
		{method: "GET", path: "/applications/overdue", id: "listOverdueApplications", summary: "open steps past their deadline", tags: app, ok: ok("overdue steps", mtJSON)},
		{method: "GET", path: "/applications/{id}", id: "getApplication", summary: "one application with events and documents", tags: app, params: []*openapi3.ParameterRef{p.id}, ok: ok("the application (ETag)", mtJSON), errs: []int{404}},
		{method: "PATCH", path: "/applications/{id}", id: "updateApplication", summary: "change the form or site before 受理", tags: app, params: []*openapi3.ParameterRef{p.id, p.ifMatch},
			body: body("the changed members", mtJSON), ok: ok("the application", mtJSON), errs: []int{400, 404, 409, 412, 413, 415, 422, 428}},
		{method: "POST", path: "/applications/{id}/transitions", id: "transitionApplication", summary: "one workflow action", tags: app, params: []*openapi3.ParameterRef{p.id, p.ifMatch},
			body: body("{action, comment, …}", mtJSON), ok: ok("the application", mtJSON), errs: []int{400, 404, 409, 412, 413, 415, 422, 428}},
		{method: "GET", path: "/applications/{id}/documents", id: "listApplicationDocuments", summary: "documents of an application", tags: app, params: []*openapi3.ParameterRef{p.id}, ok: ok("documents", mtJSON), errs: []int{404}},
		{method: "POST", path: "/applications/{id}/documents", id: "uploadApplicationDocument", summary: "upload a document (the body is the file: PDF, JPEG or PNG, sniffed; size capped)", tags: app,
			params: []*openapi3.ParameterRef{p.id, qp("kind", "hukou|id_card|pledge|photo_review|photo_staking|photo_inspection|other", openapi3.NewStringSchema()),
				qp("filename", "the file's name", openapi3.NewStringSchema())},
			body: body("the file", mtPDF, "image/jpeg", "image/png", "application/octet-stream"), ok: status(201, "the document's metadata (Location)", mtJSON), errs: []int{400, 404, 409, 413, 415}},
		{method: "GET", path: "/applications/{id}/documents/{docId}", id: "getApplicationDocument", summary: "a document's content", tags: app,
			params: []*openapi3.ParameterRef{p.id, pathParam("docId", "document id", openapi3.NewInt64Schema().WithMin(1))}, ok: ok("the file", mtPDF, "image/jpeg", "image/png"), errs: []int{404}},
		{method: "GET", path: "/applications/{id}/print/{document}", id: "printApplicationDocument", summary: "a printable PDF of an application (申请表, 审批表, 批准书, 验收意见表)", tags: app,
			params: []*openapi3.ParameterRef{p.id, pathParam("document", "申请表, 审批表, 批准书, 验收意见表", openapi3.NewStringSchema().WithEnum(printKinds()...))},
			ok:     ok("PDF (inline)", mtPDF), errs: []int{400, 404, 409}},
		{method: "GET", path: "/ledger", id: "getLedger", summary: "宅基地审批台账 rows", tags: app,
			params: []*openapi3.ParameterRef{qp("year", "year", openapi3.NewIntegerSchema().WithMin(1900).WithMax(9999)), qp("village", "village code", openapi3.NewStringSchema()),
				qp("state", "workflow state", openapi3.NewStringSchema()), qp("f", "format", openapi3.NewStringSchema().WithEnum("json", "xlsx", "csv"))},
			ok: ok("rows", mtJSON, mtXLSX, mtCSV), errs: []int{400}},
		{method: "POST", path: "/house-transfers", id: "recordHouseTransfer", summary: "record a house sold, rented or given away (R16)", tags: app,
			body: body("the transfer", mtJSON), ok: status(201, "recorded", mtJSON), errs: []int{400, 409, 413, 415, 422}},
		{method: "GET", path: "/workdays", id: "listWorkdays", summary: "working-day calendar", tags: app,
			params: []*openapi3.ParameterRef{qp("from", "first day (YYYY-MM-DD; default: this month)", openapi3.NewStringSchema().WithFormat("date")),
				qp("to", "last day, at most 367 days on", openapi3.NewStringSchema().WithFormat("date"))}, ok: ok("days", mtJSON), errs: []int{400}},
		{method: "PUT", path: "/workdays/{date}", id: "putWorkday", summary: "correct a day of the calendar", tags: app,
			params: []*openapi3.ParameterRef{pathParam("date", "YYYY-MM-DD", openapi3.NewStringSchema().WithFormat("date"))},
			body:   body("{is_workday, note}", mtJSON), ok: ok("the day", mtJSON), errs: []int{400, 413, 415, 422}},
		// 乡村建设 indicators.
		{method: "GET", path: "/indicators", id: "getIndicators", summary: "every 乡村建设 indicator per village and 自然屯 and the township total, as of a date (JSON or .xlsx)", tags: ind,
			params: []*openapi3.ParameterRef{qp("date", "the day (YYYY-MM-DD, China time; default today); a past day reads the layers as they were then", openapi3.NewStringSchema().WithFormat("date")),
				qp("village", "only this village (12-digit XZQDM)", openapi3.NewStringSchema().WithPattern("^[0-9]{12}$")),
				qp("f", "format", openapi3.NewStringSchema().WithEnum("json", "xlsx"))},
			ok: ok("the report: values, layer versions, settings, definitions", mtJSON, mtXLSX), errs: []int{400, 404}},
		{method: "GET", path: "/indicators/definitions", id: "getIndicatorDefinitions", summary: "indicator keys, titles, units and formulas", tags: ind, ok: ok("definitions", mtJSON)},
		{method: "GET", path: "/indicators/{key}/features", id: "getIndicatorFeatures", summary: "the items behind an indicator (unlit segments, households beyond reach, dead ends, exposed households …) as GeoJSON; ids and parcel codes only", tags: ind,
			params: []*openapi3.ParameterRef{pathParam("key", "indicator key", openapi3.NewStringSchema()),
				qp("date", "the day (YYYY-MM-DD)", openapi3.NewStringSchema().WithFormat("date")),
				qp("village", "only this village (12-digit XZQDM)", openapi3.NewStringSchema().WithPattern("^[0-9]{12}$"))},
			ok: ok("FeatureCollection (CRS84)", mtGeoJSON), errs: []int{400, 404}},
		{method: "GET", path: "/indicators/targets", id: "getIndicatorTargets", summary: "targets and reach distances", tags: ind, ok: ok("targets", mtJSON)},
		{method: "PUT", path: "/indicators/targets", id: "putIndicatorTargets", summary: "set targets (耕地保有量, 永久基本农田保护目标, reach distances), all or none", tags: ind,
			body: body("{targets: [{key, village, value}]}", mtJSON), ok: ok("the targets", mtJSON), errs: []int{400, 413, 415, 422}},
		// Changesets.
		{method: "GET", path: "/changesets", id: "listChangesets", summary: "changesets, newest first", tags: ed,
			params: []*openapi3.ParameterRef{qp("state", "", openapi3.NewStringSchema().WithEnum("published", "proposed", "rejected")),
				qp("limit", "", openapi3.NewIntegerSchema().WithMin(1).WithMax(1000).WithDefault(50)), p.offset}, ok: ok("changesets", mtJSON), errs: []int{400}},
		{method: "POST", path: "/changesets", id: "submitChangeset", summary: "several operations in one transaction", tags: ed,
			body: body("{message, operations: [...]}", mtJSON), ok: with(status(201, "published", mtJSON), status(202, "proposed: awaits review", mtJSON)),
			errs: []int{400, 404, 409, 412, 413, 415, 422}},
		{method: "GET", path: "/changesets/{id}", id: "getChangeset", summary: "a changeset and its changes", tags: ed, params: []*openapi3.ParameterRef{p.id}, ok: ok("the changeset", mtGeoJSON), errs: []int{404}},
		{method: "POST", path: "/changesets/{id}/revert", id: "revertChangeset", summary: "revert a published changeset with a new one", tags: ed, params: []*openapi3.ParameterRef{p.id},
			body: openapi3.NewRequestBody().WithDescription("{message} (optional)").WithContent(content(nil, mtJSON)), ok: with(with(ok("reverted", mtJSON), status(201, "the new changeset", mtJSON)), status(202, "proposed", mtJSON)), errs: []int{400, 404, 409, 413, 415}},
		{method: "POST", path: "/changesets/{id}/approve", id: "approveChangeset", summary: "approve a proposed changeset (not its author)", tags: ed, params: []*openapi3.ParameterRef{p.id},
			body: openapi3.NewRequestBody().WithDescription("{comment} (optional)").WithContent(content(nil, mtJSON)), ok: ok("published", mtJSON), errs: []int{400, 404, 409, 413, 415}},
		{method: "POST", path: "/changesets/{id}/reject", id: "rejectChangeset", summary: "reject a proposed changeset (not its author)", tags: ed, params: []*openapi3.ParameterRef{p.id},
			body: openapi3.NewRequestBody().WithDescription("{comment} (optional)").WithContent(content(nil, mtJSON)), ok: ok("rejected", mtJSON), errs: []int{400, 404, 409, 413, 415}},
	}...)
	list = append(list, projectOperations(p)...)
	list = append(list, assessmentOperations()...)
	for _, l := range catalog.Layers() {
		base, id, name := "/collections/"+l.ID, l.ID, l.TitleZH+" "+l.TitleEN
		tpl := "/collections/{collectionId}"
		// limit inline (not a $ref): clients that size their pages from
		// its maximum and default read it without resolving references.
		limit := &openapi3.ParameterRef{Value: p.limitValue}
		itemsParams := []*openapi3.ParameterRef{p.bbox, p.bboxCRS, limit, p.offset, p.crs, p.itemF, p.filter, p.filterLang, p.filterCRS,
			p.properties, p.sortby, p.datetime, p.encoding}
		for _, f := range features.VisibleFields(l, false) {
			s := openapi3.NewSchema()
			b, _ := jsonMarshal(fieldSchema(f))
			_ = s.UnmarshalJSON(b)
			itemsParams = append(itemsParams, &openapi3.ParameterRef{Value: openapi3.NewQueryParameter(f.Name).
				WithDescription("equals " + f.TitleZH + " / " + f.TitleEN).WithSchema(s)})
		}
		downloads := []string{mtGeoJSON, mtHTML}
		for _, f := range exports.Formats() {
			if ct := strings.SplitN(f.ContentType(), ";", 2)[0]; !slices.Contains(downloads, ct) {
				downloads = append(downloads, ct)
			}
		}
		itemsOK := okRef("a page of features (f=json), the HTML page (f=html), or a download of the whole result (f=geojson|gpkg|shp|csv|kml|jzd; "+
			"Content-Disposition names the file)", "featureCollection", mtGeoJSON)
		for _, t := range downloads[1:] {
			itemsOK[200].Content[t] = content(nil, t)[t]
		}
		itemOK := okRef("the feature (ETag: its revision, the If-Match of a write), or its HTML page", "feature", mtGeoJSON)
		itemOK[200].Content[mtHTML] = content(nil, mtHTML)[mtHTML]
		fid := []*openapi3.ParameterRef{p.featureID}
		writeParams := []*openapi3.ParameterRef{p.featureID, p.ifMatch, p.contentCRS, p.message}
		writeOK := func(st int, desc string) map[int]*openapi3.Response {
			m := status(st, desc, mtGeoJSON)
			m[202] = openapi3.NewResponse().WithDescription("proposed: awaits review (Location: the changeset)").WithContent(content(nil, mtJSON))
			return m
		}
		list = append(list,
			apiOp{method: "GET", path: base, template: tpl, id: "getCollection_" + id, summary: name, tags: ogc, params: pageF,
				ok: ok("the collection with links to its items, downloads, queryables, coverage and tiles", mtJSON, mtHTML), errs: []int{404, 406}},
			apiOp{method: "GET", path: base + "/queryables", template: tpl + "/queryables", id: "getQueryables_" + id, summary: "queryables of " + name, tags: ogc,
				params: []*openapi3.ParameterRef{qp("f", "", openapi3.NewStringSchema().WithEnum("json"))}, ok: ok("JSON Schema", mtSchema), errs: []int{404, 406}},
			apiOp{method: "GET", path: base + "/coverage", template: tpl + "/coverage", id: "getCoverage_" + id, summary: "where the data of " + name + " is complete (GeoJSON Feature, CRS84)", tags: ogc,
				ok: ok("coverage", mtGeoJSON), errs: []int{404}},
			apiOp{method: "GET", path: base + "/items", template: tpl + "/items", id: "getItems_" + id, summary: "features of " + name, tags: ogc, params: itemsParams,
				ok: with(itemsOK, status(304, "not modified (If-None-Match)")), errs: []int{400, 401, 404, 406}},
			apiOp{method: "POST", path: base + "/query", template: tpl + "/query", id: "queryItems_" + id, summary: "features of " + name + " for a query too long for a URL (the items parameters in a form body, or a CQL2-JSON filter)", tags: ogc,
				body: body("the items parameters as a form (filter up to 256 KiB), or a CQL2-JSON filter", "application/x-www-form-urlencoded", "application/query-cql-json", mtJSON),
				ok:   okRef("a page of features, as GET …/items", "featureCollection", mtGeoJSON), errs: []int{400, 401, 404, 406, 413, 415}},
			apiOp{method: "GET", path: base + "/items/{featureId}", template: tpl + "/items/{featureId}", id: "getItem_" + id, summary: "one feature of " + name, tags: ogc,
				params: []*openapi3.ParameterRef{p.featureID, p.crs, p.datetime, qp("f", "", openapi3.NewStringSchema().WithEnum("json", "geojson", "html"))},
				ok:     with(itemOK, status(304, "not modified (If-None-Match)")), errs: []int{400, 401, 404, 406}},
			apiOp{method: "GET", path: base + "/changes", template: tpl + "/changes", id: "getChanges_" + id,
				summary: "features of " + name + " added, modified or removed between two instants", tags: ed,
				params: []*openapi3.ParameterRef{required(qp("from", "first instant (RFC 3339)", openapi3.NewDateTimeSchema())),
					qp("to", "last instant (RFC 3339; default now)", openapi3.NewDateTimeSchema()),
					qp("f", "json/geojson: a FeatureCollection (properties change, old, new, old_geometry); gpkg: a GeoPackage download (table <layer>_changes with the column change and the state at to, <layer>_changes_old with the state at from)",
						openapi3.NewStringSchema().WithEnum("json", "geojson", "gpkg"))},
				ok: ok("a FeatureCollection of changes, or the GeoPackage (f=gpkg)", mtGeoJSON, "application/geopackage+sqlite3"), errs: []int{400, 404}},
			apiOp{method: "GET", path: base + "/tiles", template: tpl + "/tiles", id: "getCollectionTilesets_" + id, summary: "vector tilesets of " + name + " (OGC API – Tiles)", tags: tiles,
				ok: ok("tilesets", mtJSON), errs: []int{404}},
			apiOp{method: "GET", path: base + "/tiles/WebMercatorQuad", template: tpl + "/tiles/WebMercatorQuad", id: "getCollectionTileset_" + id, summary: "tileset metadata of " + name, tags: tiles,
				ok: ok("tileset metadata (OGC 17-083r4)", mtJSON), errs: []int{404, 503}},
			apiOp{method: "GET", path: base + "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", template: tpl + "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}",
				id: "getCollectionTile_" + id, summary: "a tile of " + name + " (as /tiles/" + id + "/{z}/{x}/{y}.mvt)", tags: tiles, params: tmsPath, ok: tileOK, errs: []int{400, 404}},
			apiOp{method: "GET", path: base + "/items/{featureId}/history", template: tpl + "/items/{featureId}/history", id: "getItemHistory_" + id,
				summary: "every version of a feature of " + name, tags: ed, params: fid, ok: ok("versions", mtGeoJSON), errs: []int{404}},
			apiOp{method: "POST", path: base + "/items", template: tpl + "/items", id: "createItem_" + id, summary: "create a feature of " + name, tags: ed,
				params: []*openapi3.ParameterRef{p.contentCRS, p.message}, body: body("a GeoJSON Feature", mtGeoJSON, mtJSON),
				ok: writeOK(201, "created (Location, ETag)"), errs: []int{400, 404, 409, 413, 415, 422}},
			apiOp{method: "PUT", path: base + "/items/{featureId}", template: tpl + "/items/{featureId}", id: "replaceItem_" + id, summary: "replace a feature of " + name, tags: ed,
				params: writeParams, body: body("a GeoJSON Feature", mtGeoJSON, mtJSON), ok: writeOK(200, "replaced (ETag)"), errs: []int{400, 404, 409, 412, 413, 415, 422, 428}},
			apiOp{method: "PATCH", path: base + "/items/{featureId}", template: tpl + "/items/{featureId}", id: "updateItem_" + id, summary: "update a feature of " + name + " (JSON Merge Patch)", tags: ed,
				params: writeParams, body: body("a JSON Merge Patch of the feature", mtMerge), ok: writeOK(200, "updated (ETag)"), errs: []int{400, 404, 409, 412, 413, 415, 422, 428}},
			apiOp{method: "POST", path: base + "/items/{featureId}/split", template: tpl + "/items/{featureId}/split", id: "splitItem_" + id,
				summary: "split a feature of " + name + " along a line (PostGIS ST_Split): the largest part keeps the id, the others are new features with its attributes, in one changeset",
				params:  writeParams, body: body("a GeoJSON LineString, or a Feature with a LineString geometry whose properties (a JSON Merge Patch) go to the new parts", mtGeoJSON, mtJSON),
				tags: ed, ok: writeOK(201, "split: the changeset with the written features"), errs: []int{400, 404, 409, 412, 413, 415, 422, 428}},
			apiOp{method: "DELETE", path: base + "/items/{featureId}", template: tpl + "/items/{featureId}", id: "deleteItem_" + id, summary: "delete a feature of " + name, tags: ed,
				params: []*openapi3.ParameterRef{p.featureID, p.ifMatch, p.message}, ok: with(status(204, "deleted"), map[int]*openapi3.Response{202: openapi3.NewResponse().WithDescription("proposed: awaits review")}),
				errs: []int{400, 404, 409, 412, 428}},
		)
	}
	return list
}
