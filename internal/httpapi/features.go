package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"villageplan/geo/crs"
	"villageplan/internal/auth"
	"villageplan/internal/coverage"
	"villageplan/internal/db"
	"villageplan/internal/exports"
	"villageplan/internal/features"
	"villageplan/internal/qgisproject"
	"villageplan/layers"
)

// OGC URIs of the CRSs served.
const (
	uriCRS84   = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	uriEPSGFmt = "http://www.opengis.net/def/crs/EPSG/0/%d"
)

// Conformance classes claimed: only those fully implemented.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	// Not spatial-functions: S_WITHIN, S_CONTAINS and the other relate
	// predicates refuse a GEOMETRYCOLLECTION literal (GEOS 3.11 cannot
	// relate collections), which that class requires.
	"http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
}

func init() {
	conformanceClasses = append(conformanceClasses, part4Classes...)        // editing.go
	conformanceClasses = append(conformanceClasses, ogcTilesConformance...) // ogctiles.go
}

// featureRoutes holds the state of the OGC API – Features handlers.
type featureRoutes struct {
	s   *Server
	svc *features.Service

	mu      sync.Mutex
	extents map[string]cachedExtent
	// unaccent is 1 when the database has no unaccent(text), 2 when it
	// has, 0 until known (see accentI).
	unaccent atomic.Int32
}

// accentI reports whether the database has unaccent(text), which CQL2
// ACCENTI needs. The answer is cached once the database has given it.
func (fr *featureRoutes) accentI(ctx context.Context) bool {
	switch fr.unaccent.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	var ok bool
	if err := fr.s.pool.QueryRow(ctx, `SELECT to_regprocedure('unaccent(text)') IS NOT NULL`).Scan(&ok); err != nil {
		return false
	}
	if ok {
		fr.unaccent.Store(2)
	} else {
		fr.unaccent.Store(1)
	}
	return ok
}

type cachedExtent struct {
	version int64
	extent  features.Extent
}

// routeFeatures mounts the OGC API – Features routes.
func (s *Server) routeFeatures() {
	if s.pool == nil {
		return
	}
	fr := &featureRoutes{s: s, svc: features.New(s.pool, s.catalog), extents: map[string]cachedExtent{}}
	r := s.router
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc("/", fr.landing).Methods(get...)
	r.HandleFunc("/conformance", fr.conformance).Methods(get...)
	r.HandleFunc("/api", fr.openAPI).Methods(get...)
	r.HandleFunc("/collections", fr.collections).Methods(get...)
	r.HandleFunc("/collections/{collectionId}", fr.collection).Methods(get...)
	r.HandleFunc("/collections/{collectionId}/queryables", fr.queryables).Methods(get...)
	r.HandleFunc("/collections/{collectionId}/items", fr.items).Methods(get...)
	r.HandleFunc("/collections/{collectionId}/query", fr.query).Methods(http.MethodPost)
	r.HandleFunc("/collections/{collectionId}/items/{featureId}", fr.item).Methods(get...)
}

// link is an OGC API link object.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	// Templated marks an href that is a URI template (OGC API – Tiles'
	// {tileMatrix}/{tileRow}/{tileCol}).
	Templated bool `json:"templated,omitempty"`
}

// wantsFormat decides the response format from f= and Accept. It returns
// "" (and has written 406) when neither can be served.
func wantsFormat(w http.ResponseWriter, r *http.Request, offered ...string) string {
	if f := r.URL.Query().Get("f"); f != "" {
		for _, o := range offered {
			if f == o {
				return o
			}
		}
		WriteError(w, http.StatusNotAcceptable, "NotAcceptable",
			fmt.Sprintf("format f=%s is not offered here; use one of: %s", f, strings.Join(offered, ", ")))
		return ""
	}
	if acceptsHTML(r) {
		for _, o := range offered {
			if o == "html" {
				return o
			}
		}
	}
	return offered[0]
}

// acceptsHTML reports whether the client prefers HTML (a browser): text/html
// is listed in Accept before any JSON type.
func acceptsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	h := strings.Index(a, "text/html")
	if h < 0 {
		return false
	}
	j := strings.Index(a, "json")
	return j < 0 || h < j
}

func (fr *featureRoutes) landing(w http.ResponseWriter, r *http.Request) {
	f := wantsFormat(w, r, "json", "html")
	if f == "" {
		return
	}
	base := fr.s.baseURL(r)
	if f == "html" {
		renderHTML(w, "landing", &pageData{Title: "首页", Base: base, JSONQuery: jsonQuery(r), Links: alternateLinks(base+"/", r.URL.Query(), "application/json", "html")})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"title":       "双营子回族乡村庄规划一张图 — Village planning one-map of Shuangyingzi Hui Township",
		"description": "OGC API – Features for every planning layer (CGCS2000). 示例数据 where marked.",
		"links": []link{
			{Href: base + "/", Rel: "self", Type: "application/json", Title: "this document"},
			{Href: base + "/?f=html", Rel: relAlternate, Type: "text/html", Title: "首页（网页）/ this document as HTML"},
			{Href: base + "/api", Rel: "service-desc", Type: "application/vnd.oai.openapi+json;version=3.0", Title: "OpenAPI definition"},
			{Href: base + "/conformance", Rel: "conformance", Type: "application/json", Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: "application/json", Title: "layers"},
			{Href: base + "/collections?f=html", Rel: "data", Type: "text/html", Title: "图层（网页）/ layers (HTML)"},
			{Href: base + "/styles/default.json", Rel: "http://www.opengis.net/def/rel/ogc/1.0/styles", Type: "application/vnd.mapbox.style+json", Title: "地图样式 / map style (MapLibre)"},
			{Href: base + "/tiles", Rel: relTiles, Type: "application/json", Title: "一张图矢量瓦片集（所有图层）/ vector tilesets of the whole map (OGC API – Tiles)"},
			{Href: base + "/tileMatrixSets", Rel: relTileMatrixSets, Type: "application/json", Title: "瓦片矩阵集 / tile matrix sets"},
			{Href: base + "/qgis/villageplan.qgs", Rel: "enclosure", Type: qgisproject.ContentType, Title: "QGIS 工程（全部图层，EPSG:4530）/ QGIS project of the one-map"},
		},
		"gdal": "GDAL/QGIS (OAPIF): GDAL 3.6 asks for 10 features per page; add -oo PAGE_SIZE=1000 " +
			"(ogr2ogr -f GPKG homesteads.gpkg OAPIF:" + base + " homesteads -oo PAGE_SIZE=1000: 4 requests for 2,911 homesteads instead of 293).",
	})
}

func (fr *featureRoutes) conformance(w http.ResponseWriter, r *http.Request) {
	f := wantsFormat(w, r, "json", "html")
	if f == "" {
		return
	}
	if f == "html" {
		renderHTML(w, "conformance", &pageData{Title: "符合性类", Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Classes: conformanceClasses})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"conformsTo": conformanceClasses})
}

// supportedCRS lists the output CRSs of a layer: CRS84, EPSG:4490,
// EPSG:4326, EPSG:3857 and the CGCS2000 3-degree Gauss-Krüger zones (with
// and without the zone number in the easting) that cover its extent.
func supportedCRS(e features.Extent) []int {
	out := []int{0, layers.StorageSRID, 4326, layers.TileSRID}
	if e.Empty {
		return out
	}
	for z := crs.GKZone3ForLongitude(e.MinLon); z <= crs.GKZone3ForLongitude(e.MaxLon); z++ {
		with, err1 := crs.EPSGFor3DegreeZone(z, true)
		without, err2 := crs.EPSGFor3DegreeZone(z, false)
		if err1 == nil && err2 == nil {
			out = append(out, with, without)
		}
	}
	return out
}

// crsURI is the OGC URI of an SRID (0 for CRS84).
func crsURI(srid int) string {
	if srid == 0 {
		return uriCRS84
	}
	return fmt.Sprintf(uriEPSGFmt, srid)
}

// parseCRSURI reads an OGC CRS URI (or EPSG:N) into an SRID (0 for CRS84).
func parseCRSURI(s string) (int, bool) {
	c, err := crs.ParseURI(s)
	if err != nil {
		return 0, false
	}
	if c.CRS84 {
		return 0, true
	}
	return c.EPSG, true
}

func (fr *featureRoutes) layer(w http.ResponseWriter, r *http.Request) *layers.Layer {
	id := mux.Vars(r)["collectionId"]
	l, ok := fr.s.catalog.Layer(id)
	if !ok {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no collection %q; GET /collections lists them", id))
		return nil
	}
	return l
}

// extent returns the layer's extent, recomputed only when its data version
// changed.
func (fr *featureRoutes) extent(ctx context.Context, l *layers.Layer) (features.Extent, error) {
	v, _, err := fr.svc.Version(ctx, l)
	if err != nil {
		return features.Extent{}, err
	}
	fr.mu.Lock()
	c, ok := fr.extents[l.ID]
	fr.mu.Unlock()
	if ok && c.version == v {
		return c.extent, nil
	}
	e, err := fr.svc.Extent(ctx, l)
	if err != nil {
		return e, err
	}
	fr.mu.Lock()
	fr.extents[l.ID] = cachedExtent{version: v, extent: e}
	fr.mu.Unlock()
	return e, nil
}

// collectionDoc is a collection's document; briefs are the recorded
// coverages by layer (coverage.Briefs): a layer with one gets a
// "coverage" member and a link rel "coverage" to its GeoJSON.
func (fr *featureRoutes) collectionDoc(ctx context.Context, base string, l *layers.Layer, briefs map[string]coverage.Brief) (map[string]any, error) {
	e, err := fr.extent(ctx, l)
	if err != nil {
		return nil, err
	}
	crsList := []string{}
	for _, c := range supportedCRS(e) {
		crsList = append(crsList, crsURI(c))
	}
	href := base + "/collections/" + l.ID
	doc := map[string]any{
		"id":          l.ID,
		"title":       l.TitleZH + " " + l.TitleEN,
		"description": l.Description,
		"itemType":    "feature",
		"crs":         crsList,
		"storageCrs":  crsURI(layers.StorageSRID),
		"links":       append([]link{{Href: href, Rel: "self", Type: "application/json", Title: "this collection"}}, collectionLinks(base, l)...),
	}
	if b, ok := briefs[l.ID]; ok {
		cs := newCoverageSummary(base, l, b)
		doc["coverage"] = cs
		doc["links"] = append(doc["links"].([]link), link{Href: cs.Href, Rel: relCoverage, Type: "application/geo+json",
			Title: "覆盖范围（数据完整的区域）/ coverage: where the layer's data is complete"})
	} else {
		doc["coverage"] = nil
	}
	if !e.Empty {
		doc["extent"] = map[string]any{"spatial": map[string]any{
			"bbox": [][]float64{{e.MinLon, e.MinLat, e.MaxLon, e.MaxLat}},
			"crs":  uriCRS84,
		}}
	}
	return doc, nil
}

func (fr *featureRoutes) collections(w http.ResponseWriter, r *http.Request) {
	f := wantsFormat(w, r, "json", "html")
	if f == "" {
		return
	}
	base := fr.s.baseURL(r)
	if f == "html" {
		renderHTML(w, "collections", &pageData{Title: "图层", Base: base, JSONQuery: jsonQuery(r), Layers: fr.s.catalog.Layers(),
			Links: alternateLinks(base+"/collections", r.URL.Query(), "application/json", "html")})
		return
	}
	briefs, err := coverage.Briefs(r.Context(), fr.s.pool)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	var docs []map[string]any
	for _, l := range fr.s.catalog.Layers() {
		d, err := fr.collectionDoc(r.Context(), base, l, briefs)
		if err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		docs = append(docs, d)
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"links": []link{{Href: base + "/collections", Rel: "self", Type: "application/json"},
			{Href: base + "/collections?f=html", Rel: relAlternate, Type: "text/html", Title: "图层（网页）/ layers as HTML"}},
		"collections": docs,
		"crs":         []string{uriCRS84, crsURI(layers.StorageSRID), crsURI(4326), crsURI(layers.TileSRID)},
	})
}

func (fr *featureRoutes) collection(w http.ResponseWriter, r *http.Request) {
	l := fr.layer(w, r)
	if l == nil {
		return
	}
	f := wantsFormat(w, r, "json", "html")
	if f == "" {
		return
	}
	briefs, err := coverage.Briefs(r.Context(), fr.s.pool)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	if f == "html" {
		sample, err := fr.svc.IsSample(r.Context(), l)
		if err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		var cs *coverageSummary
		if b, ok := briefs[l.ID]; ok {
			cs = newCoverageSummary(fr.s.baseURL(r), l, b)
		}
		links := append(alternateLinks(fr.s.baseURL(r)+"/collections/"+l.ID, r.URL.Query(), "application/json", "html"), htmlLinks(collectionLinks(fr.s.baseURL(r), l))[1:]...)
		renderHTML(w, "collection", &pageData{Title: l.TitleZH, Base: fr.s.baseURL(r), JSONQuery: jsonQuery(r), Layer: l, Sample: sample, Coverage: cs, Links: links})
		return
	}
	d, err := fr.collectionDoc(r.Context(), fr.s.baseURL(r), l, briefs)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, d)
}

// queryables describes the fields that may be filtered on, as JSON Schema;
// personal-data fields are listed as restricted and cannot be queried.
func (fr *featureRoutes) queryables(w http.ResponseWriter, r *http.Request) {
	l := fr.layer(w, r)
	if l == nil || wantsFormat(w, r, "json") == "" {
		return
	}
	props := map[string]any{}
	for _, f := range l.Fields {
		p := fieldSchema(f)
		if f.Personal {
			p = map[string]any{"title": f.TitleZH + " / " + f.TitleEN, "description": "个人信息，不可查询 / personal data, restricted", "readOnly": true, "x-restricted": true}
		}
		props[f.Name] = p
	}
	geomFormat := map[layers.GeometryType]string{layers.Point: "geometry-point", layers.MultiLineString: "geometry-multilinestring", layers.MultiPolygon: "geometry-multipolygon"}
	props["geometry"] = map[string]any{"format": geomFormat[l.Geometry]}
	w.Header().Set("Content-Type", "application/schema+json")
	WriteJSONTyped(w, http.StatusOK, "application/schema+json", map[string]any{
		"$schema":    "https://json-schema.org/draft/2019-09/schema",
		"$id":        fr.s.baseURL(r) + "/collections/" + l.ID + "/queryables",
		"type":       "object",
		"title":      l.TitleZH + " " + l.TitleEN,
		"properties": props,
	})
}

// fieldSchema is the JSON Schema of a catalog field, with its code list as
// an enum.
func fieldSchema(f layers.Field) map[string]any {
	p := map[string]any{"title": f.TitleZH + " / " + f.TitleEN}
	switch f.Type {
	case layers.Integer:
		p["type"] = "integer"
	case layers.Real:
		p["type"] = "number"
	case layers.Bool:
		p["type"] = "boolean"
	case layers.Date:
		p["type"], p["format"] = "string", "date"
	default:
		p["type"] = "string"
		if f.MaxLength > 0 {
			p["maxLength"] = f.MaxLength
		}
	}
	if f.Unit != "" {
		p["x-unit"] = f.Unit
	}
	if f.Code != "" {
		p["x-standard-code"] = f.Code
	}
	if f.CodeList != "" {
		if cl, ok := layers.CodeListByID(f.CodeList); ok {
			var enum []string
			for _, v := range cl.Values {
				enum = append(enum, v.Value)
			}
			p["enum"] = enum
		}
	}
	return p
}

// paramError is a 400 naming the offending parameter; zh, when set, is
// the message in Chinese, given before the English one.
type paramError struct{ param, msg, zh string }

func (e *paramError) Error() string {
	if e.zh != "" {
		return "参数 " + e.param + "：" + e.zh + "；parameter " + e.param + ": " + e.msg
	}
	return "parameter " + e.param + ": " + e.msg
}

func badParam(param, format string, a ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, a...)}
}

// standardItemParams are the query parameters of the items resource other
// than queryable attribute names.
var standardItemParams = map[string]bool{
	"f": true, "bbox": true, "bbox-crs": true, "limit": true, "offset": true, "properties": true,
	"sortby": true, "crs": true, "datetime": true, "filter": true, "filter-lang": true, "filter-crs": true,
	"encoding": true,
}

// parseItemsQuery turns the items query string into a features.Query.
// Every failure is a *paramError.
func (fr *featureRoutes) parseItemsQuery(ctx context.Context, l *layers.Layer, v url.Values) (*features.Query, error) {
	q := &features.Query{Layer: l, Limit: features.DefaultLimit}
	visible := features.VisibleFields(l, false)
	byName := map[string]layers.Field{}
	for _, f := range visible {
		byName[f.Name] = f
	}
	for k := range v {
		if standardItemParams[k] {
			continue
		}
		if _, ok := byName[k]; ok {
			continue
		}
		if f, ok := l.Field(k); ok && f.Personal {
			return nil, badParam(k, "is personal data and cannot be queried")
		}
		return nil, badParam(k, "is not a parameter of this collection; see /collections/%s/queryables", l.ID)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, badParam("limit", "must be a whole number from 1 to %d, got %q", features.MaxLimit, s)
		}
		if n > features.MaxLimit && !isDownload(v.Get("f")) {
			n = features.MaxLimit // OGC API: a larger limit is reduced, not refused
		}
		q.Limit = n
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, badParam("offset", "must be a whole number ≥ 0, got %q", s)
		}
		q.Offset = n
	}
	var ext *features.Extent
	getExtent := func() (features.Extent, error) {
		if ext == nil {
			e, err := fr.extent(ctx, l)
			if err != nil {
				return e, err
			}
			ext = &e
		}
		return *ext, nil
	}
	// offeredCRS reads a CRS parameter: an OGC URI of a CRS offered for
	// this collection (see supportedCRS); 0 is CRS84.
	offeredCRS := func(param, value string) (int, error) {
		srid, ok := parseCRSURI(value)
		if !ok {
			return 0, badParam(param, "%q is not a CRS URI; use e.g. %s or %s", value, uriCRS84, crsURI(layers.StorageSRID))
		}
		e, err := getExtent()
		if err != nil {
			return 0, err
		}
		for _, c := range supportedCRS(e) {
			if c == srid {
				return srid, nil
			}
		}
		return 0, badParam(param, "%s is not offered for this collection; see its \"crs\" list", value)
	}
	if s := v.Get("crs"); s != "" {
		srid, err := offeredCRS("crs", s)
		if err != nil {
			return nil, err
		}
		q.OutputSRID = srid
	}
	if s := v.Get("bbox"); s != "" {
		parts := strings.Split(s, ",")
		if len(parts) != 4 && len(parts) != 6 {
			return nil, badParam("bbox", "needs 4 numbers (or 6 with heights), got %d", len(parts))
		}
		var n []float64
		for _, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, badParam("bbox", "%q is not a finite number", p)
			}
			n = append(n, f)
		}
		if len(n) == 6 {
			n = []float64{n[0], n[1], n[3], n[4]}
		}
		bb := &features.BBox{MinA1: n[0], MinA2: n[1], MaxA1: n[2], MaxA2: n[3]}
		if s := v.Get("bbox-crs"); s != "" {
			srid, err := offeredCRS("bbox-crs", s)
			if err != nil {
				return nil, err
			}
			bb.SRID = srid
		}
		if err := bb.Check(); err != nil {
			be := err.(*features.BBoxError)
			return nil, &paramError{param: "bbox", zh: be.ZH, msg: be.EN}
		}
		q.BBox = bb
	} else if v.Get("bbox-crs") != "" {
		return nil, badParam("bbox-crs", "given without bbox")
	}
	if s := v.Get("properties"); s != "" {
		q.Properties = []layers.Field{}
		for _, name := range strings.Split(s, ",") {
			name = strings.TrimSpace(name)
			f, ok := byName[name]
			if !ok {
				return nil, badParam("properties", "%q is not a property of %s", name, l.ID)
			}
			q.Properties = append(q.Properties, f)
		}
	}
	if s := v.Get("sortby"); s != "" {
		for _, key := range strings.Split(s, ",") {
			key = strings.TrimSpace(key)
			desc := strings.HasPrefix(key, "-")
			key = strings.TrimLeft(key, "+-")
			f, ok := byName[key]
			if !ok {
				return nil, badParam("sortby", "%q is not a sortable property of %s", key, l.ID)
			}
			q.SortBy = append(q.SortBy, features.Sort{Field: f, Desc: desc})
		}
	}
	if s := v.Get("datetime"); s != "" {
		at, err := fr.parseInstant(ctx, l, "datetime", s)
		if err != nil {
			return nil, err
		}
		q.AsOf = &at
	}
	if s := v.Get("filter"); s != "" {
		lang := v.Get("filter-lang")
		if lang != "" && lang != "cql2-text" && lang != "cql2-json" {
			return nil, badParam("filter-lang", "%q is not supported; use cql2-text or cql2-json", lang)
		}
		fsrid := 0
		if c := v.Get("filter-crs"); c != "" {
			var err error
			if fsrid, err = offeredCRS("filter-crs", c); err != nil {
				return nil, err
			}
		}
		text, viaJSON := s, false
		if lang == "cql2-json" {
			var err error
			if text, err = features.CQL2JSONToText(s, postFilterLimit(ctx)); err != nil {
				fe := err.(*features.FilterError)
				return nil, &paramError{param: "filter", zh: fe.Chinese(), msg: fe.English()}
			}
			viaJSON = true
		}
		where, wargs, err := features.TranslateCQL2(text, features.FilterContext{Fields: visible, FilterSRID: fsrid, AccentI: fr.accentI(ctx), MaxLength: postFilterLimit(ctx)})
		if fe, ok := err.(*features.FilterError); ok {
			zh, en := fe.Chinese(), fe.English()
			if viaJSON {
				zh, en = "（CQL2-JSON 对应的 CQL2 文本："+text+"）"+zh, "(in the CQL2 text form of the CQL2-JSON filter: "+text+") "+en
			}
			return nil, &paramError{param: "filter", zh: zh, msg: en}
		} else if err != nil {
			return nil, badParam("filter", "%v", err)
		}
		q.Where, q.WhereArgs = where, wargs
	} else if v.Get("filter-crs") != "" || v.Get("filter-lang") != "" {
		if lang := v.Get("filter-lang"); lang != "" && lang != "cql2-text" && lang != "cql2-json" {
			return nil, badParam("filter-lang", "%q is not supported; use cql2-text or cql2-json", lang)
		}
	}
	names := make([]string, 0, len(v))
	for k := range v {
		if _, ok := byName[k]; ok && !standardItemParams[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		val, err := features.ParseValue(byName[k], v.Get(k))
		if err != nil {
			return nil, badParam(k, "%v", err)
		}
		q.Equals = append(q.Equals, features.Equal{Field: byName[k], Value: val})
	}
	return q, nil
}

// etag derives a weak validator from the layer version and the request.
func etag(layerID string, version int64, r *http.Request) string {
	h := sha256.Sum256([]byte(r.URL.Path + "?" + r.URL.RawQuery + "|" + r.Header.Get("X-Forwarded-Host") + r.Header.Get("X-Forwarded-Prefix") +
		"|" + strconv.FormatBool(acceptsHTML(r))))
	return fmt.Sprintf(`W/"%s-%d-%s"`, layerID, version, hex.EncodeToString(h[:6]))
}

// itemETag is the strong ETag of a single feature's representation
// (features.ETag: its revision, plus a variant digest for HTML, another
// CRS, forwarded links or personal fields).
func itemETag(id int64, rev string, r *http.Request, personal bool) string {
	variant := r.URL.RawQuery + "|" + r.Header.Get("X-Forwarded-Host") + r.Header.Get("X-Forwarded-Prefix") + "|" + strconv.FormatBool(acceptsHTML(r)) +
		"|" + strconv.FormatBool(personal)
	if variant == "||false|false" {
		return features.ETag(id, rev)
	}
	h := sha256.Sum256([]byte(variant))
	return features.VariantETag(id, rev, hex.EncodeToString(h[:6]))
}

// notModified sets ETag/Last-Modified and answers 304 when the client's
// copy is current.
func notModified(w http.ResponseWriter, r *http.Request, tag string, updated time.Time) bool {
	w.Header().Set("ETag", tag)
	w.Header().Set("Vary", "Accept")
	if !updated.IsZero() {
		w.Header().Set("Last-Modified", updated.UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Cache-Control", "no-cache")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if strings.TrimSpace(t) == tag || strings.TrimSpace(t) == "*" {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

func (fr *featureRoutes) items(w http.ResponseWriter, r *http.Request) {
	l := fr.layer(w, r)
	if l == nil {
		return
	}
	format := wantsFormat(w, r, "json", "html", "geojson", "gpkg", "shp", "csv", "kml", "jzd")
	if format == "" {
		return
	}
	v := r.URL.Query()
	q, err := fr.parseItemsQuery(r.Context(), l, v)
	if err != nil {
		fr.s.requestError(w, r, err)
		return
	}
	if q.AsOf != nil && !signedInForHistory(w, r) {
		return
	}
	// Personal fields for an entitled principal (personal.go); never in
	// the HTML pages.
	var village string
	if format != "html" {
		q.IncludePersonal, village = personalForQuery(r, l, q)
	}
	if isDownload(format) {
		f, _ := exports.ParseFormat(format)
		if v.Get("limit") == "" {
			q.Limit = 0 // a download is the whole result unless limited
		}
		fr.download(w, r, l, q, f, village)
		return
	}
	page, err := fr.svc.Items(r.Context(), q)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	if notModified(w, r, personalTag(etag(l.ID, page.Version, r), q.IncludePersonal), page.UpdatedAt) {
		return
	}
	if q.IncludePersonal {
		if err := fr.s.auditPersonal(r, l, village, featureIDs(page.Features), false); err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		privateAnswer(w)
	}
	base := fr.s.baseURL(r)
	self := base + "/collections/" + l.ID + "/items"
	pageLink := func(rel string, offset int) link {
		nv := url.Values{}
		for k, vals := range v {
			nv[k] = vals
		}
		nv.Set("offset", strconv.Itoa(offset))
		nv.Set("limit", strconv.Itoa(q.Limit))
		return link{Href: self + "?" + nv.Encode(), Rel: rel, Type: "application/geo+json"}
	}
	links := []link{{Href: self + queryString(v), Rel: "self", Type: "application/geo+json", Title: "this page"},
		{Href: base + "/collections/" + l.ID, Rel: "collection", Type: "application/json"}}
	links = append(links, itemsPageLinks(base, l, v, "json")...)
	var hdrLinks []string
	if page.HasNext {
		nl := pageLink("next", q.Offset+q.Limit)
		links = append(links, nl)
		hdrLinks = append(hdrLinks, fmt.Sprintf("<%s>; rel=\"next\"; type=\"application/geo+json\"", nl.Href))
	}
	if q.Offset > 0 {
		pl := pageLink("prev", max(0, q.Offset-q.Limit))
		links = append(links, pl)
		hdrLinks = append(hdrLinks, fmt.Sprintf("<%s>; rel=\"prev\"; type=\"application/geo+json\"", pl.Href))
	}
	if len(hdrLinks) > 0 {
		w.Header().Set("Link", strings.Join(hdrLinks, ", "))
	}
	if format == "html" {
		var next, prev string
		for _, lk := range links {
			switch lk.Rel {
			case "next":
				next = lk.Href
			case "prev":
				prev = lk.Href
			}
		}
		fr.itemsHTML(w, r, l, q, page, next, prev)
		return
	}
	w.Header().Set("Content-Crs", "<"+crsURI(q.OutputSRID)+">")
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)

	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, f := range page.Features {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f)
	}
	b.WriteString(`],"numberReturned":`)
	b.WriteString(strconv.Itoa(len(page.Features)))
	if page.Matched >= 0 {
		b.WriteString(`,"numberMatched":`)
		b.WriteString(strconv.FormatInt(page.Matched, 10))
	}
	b.WriteString(`,"timeStamp":"`)
	b.WriteString(time.Now().UTC().Format(time.RFC3339))
	b.WriteString(`","links":`)
	lb, _ := jsonMarshal(links)
	b.Write(lb)
	b.WriteString("}\n")
	_, _ = w.Write(b.Bytes())
}

func queryString(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func (fr *featureRoutes) item(w http.ResponseWriter, r *http.Request) {
	l := fr.layer(w, r)
	if l == nil {
		return
	}
	format := wantsFormat(w, r, "json", "geojson", "html")
	if format == "" {
		return
	}
	raw := mux.Vars(r)["featureId"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no feature %q in %s (feature ids are positive whole numbers)", raw, l.ID))
		return
	}
	srid := 0
	var asOf *time.Time
	for k := range r.URL.Query() {
		if k != "f" && k != "crs" && k != "datetime" {
			fr.s.requestError(w, r, badParam(k, "is not a parameter of a single feature"))
			return
		}
	}
	if s := r.URL.Query().Get("crs"); s != "" {
		var ok bool
		srid, ok = parseCRSURI(s)
		e, eerr := fr.extent(r.Context(), l)
		if eerr != nil {
			fr.s.serverError(w, r, eerr)
			return
		}
		if ok {
			ok = false
			for _, c := range supportedCRS(e) {
				ok = ok || c == srid
			}
		}
		if !ok {
			fr.s.requestError(w, r, badParam("crs", "%q is not offered for this collection", s))
			return
		}
	}
	if s := r.URL.Query().Get("datetime"); s != "" {
		at, err := fr.parseInstant(r.Context(), l, "datetime", s)
		if err != nil {
			fr.s.requestError(w, r, err)
			return
		}
		asOf = &at
	}
	if asOf != nil {
		fr.itemAsOf(w, r, l, id, *asOf, srid, format)
		return
	}
	// Personal fields for a principal entitled to the feature's village
	// (personal.go); never in the HTML page. The ETag names the feature's
	// revision (features.ETag): the If-Match of a Part 4 write (editing.go)
	// is compared with it.
	p := auth.FromContext(r.Context())
	township, scope := p.PersonalScope()
	personal := format != "html" && hasPersonal(l) && township
	f, rev, updated, err := fr.svc.FeatureRevision(r.Context(), l, id, srid, personal)
	village := ""
	if err == nil && format != "html" && hasPersonal(l) && !township && len(scope) > 0 {
		if vf := villageField(l); vf != "" {
			if v := villageOfFeature(f, vf); v != "" && p.MayReadPersonal(v) {
				personal, village = true, v
				f, rev, updated, err = fr.svc.FeatureRevision(r.Context(), l, id, srid, true)
			}
		}
	}
	if errors.Is(err, features.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no feature %d in %s", id, l.ID))
		return
	}
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	if notModified(w, r, itemETag(id, rev, r, personal), updated) {
		return
	}
	if personal {
		if err := fr.s.auditPersonal(r, l, village, []string{strconv.FormatInt(id, 10)}, false); err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		privateAnswer(w)
	}
	base := fr.s.baseURL(r)
	if format == "html" {
		fr.itemHTML(w, r, l, id, f)
		return
	}
	w.Header().Set("Content-Crs", "<"+crsURI(srid)+">")
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	// Splice the links into the feature object PostGIS built.
	lb, _ := jsonMarshal([]link{
		{Href: base + "/collections/" + l.ID + "/items/" + raw, Rel: "self", Type: "application/geo+json"},
		{Href: base + "/collections/" + l.ID, Rel: "collection", Type: "application/json"},
		itemPageLinks(base, l, raw, r.URL.Query(), "json")[0],
	})
	out := make([]byte, 0, len(f)+len(lb)+16)
	out = append(out, f[:len(f)-1]...)
	out = append(out, `,"links":`...)
	out = append(out, lb...)
	out = append(out, "}\n"...)
	_, _ = w.Write(out)
}

// isDownload reports whether f= names a file download rather than the
// paged JSON or HTML views.
func isDownload(f string) bool {
	_, err := exports.ParseFormat(f)
	return err == nil && f != "json" && f != "html" && f != ""
}

// download writes the whole result of q as a file in format f (GeoJSON,
// GeoPackage, zipped Shapefile, CSV, KML or 界址点 txt) with the writers of
// the export command. Streaming formats go out as rows arrive; GeoPackage
// and Shapefile are built in a temporary file first (they need to seek).
// ?encoding=GBK|UTF-8 chooses the text encoding where the format has one
// (CSV, Shapefile DBF, 界址点 TXT; Content-Type names the charset of the
// text formats). A value GBK cannot represent is found before anything is
// sent and refused with a 400 naming the feature, field and character
// (nothing is substituted: a download never changes the data silently).
func (fr *featureRoutes) download(w http.ResponseWriter, r *http.Request, l *layers.Layer, q *features.Query, f exports.Format, village string) {
	version, updated, err := fr.svc.Version(r.Context(), l)
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	enc := r.URL.Query().Get("encoding")
	if enc != "" && enc != "UTF-8" && enc != "GBK" {
		fr.s.requestError(w, r, badParam("encoding", "%q is not UTF-8 or GBK", enc))
		return
	}
	if notModified(w, r, personalTag(etag(l.ID, version, r), q.IncludePersonal), updated) {
		return
	}
	// A bounded number of downloads at once: each holds a database
	// connection for its whole length.
	select {
	case fr.s.downloads <- struct{}{}:
		defer func() { <-fr.s.downloads }()
	default:
		w.Header().Set("Retry-After", "10")
		WriteError(w, http.StatusServiceUnavailable, "TooManyDownloads",
			fmt.Sprintf("同时进行的下载已达上限（%d 个），请稍后重试。 %d downloads are already running, the limit; try again shortly.", cap(fr.s.downloads), cap(fr.s.downloads)))
		return
	}
	if q.IncludePersonal {
		if err := fr.s.auditPersonal(r, l, village, nil, true); err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		privateAnswer(w)
	}
	resolved, _ := exports.ResolveEncoding(f, enc) // enc is "", UTF-8 or GBK here
	w.Header().Set("Content-Type", f.ContentTypeFor(resolved))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, l.ID, f.Extension()))
	// Headers are sent with the first byte: a request error found by the
	// writer before writing (a CRS the format cannot hold, text GBK cannot
	// encode) still gets a 400.
	lw := &lazyWriter{w: w, rc: http.NewResponseController(w), stall: fr.s.limits.WriteStall}
	res, err := exports.Write(r.Context(), db.DownloadPoolFrom(r.Context(), fr.s.downloadPool), f, q, exports.Options{Encoding: enc, Name: l.ID}, lw)
	if err != nil {
		if !lw.started {
			w.Header().Del("Content-Disposition")
			if db.IsUnavailable(err) || db.IsTimeout(err) || r.Context().Err() != nil {
				fr.s.serverError(w, r, err)
				return
			}
			var ee *exports.EncodingError
			if errors.As(err, &ee) {
				// Found before the first byte (exports checks every
				// text value first): a 400 naming the feature and field.
				fr.s.requestError(w, r, badParam("encoding", "%v", err))
				return
			}
			fr.s.requestError(w, r, badParam("f", "%v", err))
			return
		}
		// The status line and part of the file are out: abort the
		// response so that the client sees an error (no terminating
		// chunk, the connection is reset) instead of a file that looks
		// complete.
		fr.s.logger.Warn("download aborted", "layer", l.ID, "format", f, "err", err)
		fr.s.downloadsTotal.WithLabelValues(l.ID, string(f), "aborted").Inc()
		panic(http.ErrAbortHandler)
	}
	fr.s.downloadsTotal.WithLabelValues(l.ID, string(f), "complete").Inc()
	fr.s.downloadFeatures.WithLabelValues(l.ID, string(f)).Add(float64(res.Features))
	fr.s.logger.Debug("download", "layer", l.ID, "format", f, "features", res.Features, "omitted", res.Omitted)
}

// lazyWriter records whether anything was written, so that an error found
// before the first byte can still become a 4xx response.
// Each write gets a deadline of stall from now, so a client that stops
// reading is dropped instead of holding a download slot and a database
// connection for ever.
type lazyWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	stall   time.Duration
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.w.WriteHeader(http.StatusOK)
	}
	if l.rc != nil && l.stall > 0 {
		_ = l.rc.SetWriteDeadline(time.Now().Add(l.stall))
	}
	return l.w.Write(p)
}
