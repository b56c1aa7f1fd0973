package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"villageplan/internal/siting"
	"villageplan/internal/web"
)

// routeWeb mounts the planners' web map (/map) and the approval desk page
// (/desk) with their embedded static assets and the small JSON endpoints
// the pages read:
//
//	GET  /map, /desk                 the pages (embedded HTML)
//	GET  /web/{file}                 embedded scripts, styles, MapLibre GL JS
//	GET  /favicon.ico                the service's icon (SVG)
//	GET  /map/meta.json              layer panel, popup titles and code names, views (catalog)
//	GET  /map/villages?q=&limit=     village search by name or code, with extents
//	GET  /map/views/streetlight-coverage.geojson  lit and unlit main-road segments
//	POST /desk/preview               a site's area, village and 四至, without storing a check
//
// The pages themselves need no database; the JSON endpoints answer 503
// without one.
func (s *Server) routeWeb() {
	assets := web.NewAssets()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { assets.Serve(w, r, name) }
	}
	// "/map/" would resolve the pages' relative URLs one folder too deep:
	// send it to "/map" with a relative Location, which keeps a reverse
	// proxy's path prefix.
	up := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "../"+name)
			w.WriteHeader(http.StatusMovedPermanently)
		}
	}
	get := []string{http.MethodGet, http.MethodHead}
	s.router.HandleFunc("/map", page("map.html")).Methods(get...)
	s.router.HandleFunc("/map/", up("map")).Methods(get...)
	s.router.HandleFunc("/desk", page("desk.html")).Methods(get...)
	s.router.HandleFunc("/desk/", up("desk")).Methods(get...)
	s.router.HandleFunc("/construction", page("construction.html")).Methods(get...)
	s.router.HandleFunc("/assessment", page("assessment.html")).Methods(get...)
	// Browsers ask every page of the service for /favicon.ico.
	s.router.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { assets.Serve(w, r, "favicon.svg") }).Methods(get...)
	s.router.PathPrefix("/web/").Methods(get...).Handler(http.StripPrefix("/web/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !assets.Has(r.URL.Path) {
			WriteError(w, http.StatusNotFound, "NotFound", "no static file "+strconv.Quote(r.URL.Path))
			return
		}
		assets.Serve(w, r, r.URL.Path)
	})))

	rs := s.opts.RuleSet
	if rs == nil {
		var err error
		if rs, err = siting.DefaultRuleSet(); err != nil {
			panic(err) // the shipped rule set is validated by tests
		}
	}
	var builtUp []string
	if rc, ok := rs.Rules["village_construction_boundary"]; ok {
		builtUp = rc.ZoneKinds
	}
	cov := web.NewCoverage(s.catalog, builtUp)
	h := &webRoutes{s: s, meta: web.BuildMeta(s.catalog, cov)}
	if s.pool != nil {
		h.store = web.NewStore(s.pool, s.catalog, cov)
		h.sites = &sitingRoutes{s: s, svc: siting.NewService(s.sitingPool, rs)}
	}
	s.router.HandleFunc("/map/meta.json", h.metaJSON).Methods(get...)
	s.router.HandleFunc("/map/villages", h.villages).Methods(get...)
	s.router.HandleFunc("/"+web.CoveragePath, h.coverage).Methods(get...)
	s.router.HandleFunc("/desk/preview", h.preview).Methods(http.MethodPost)
	s.router.HandleFunc("/map/versions.json", h.versions).Methods(get...)
	s.router.HandleFunc("/map/measure", h.measure).Methods(http.MethodPost)
}

// versions answers every layer's version ({"layers": {"homesteads":
// "12.1764…", …}}): what the tiles' ETags are made of, from the tile
// service's live view (no database query while its listener is up). The
// web map polls it and reloads the tiles of a layer whose version moved,
// so an edit made anywhere (the API, psql, QGIS) reaches maps already
// open.
func (h *webRoutes) versions(w http.ResponseWriter, r *http.Request) {
	if h.noDatabase(w) {
		return
	}
	vs, err := h.s.tiles.Versions(r.Context())
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	out := make(map[string]string, len(vs))
	for id, v := range vs {
		out[id] = strconv.FormatInt(v.N, 10) + "." + strconv.FormatInt(v.Stamp, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, map[string]any{"layers": out})
}

// maxMeasureBody bounds the body of POST /map/measure (bytes).
const maxMeasureBody = 1 << 20

// measure: POST /map/measure with {"geometry": a GeoJSON LineString or
// Polygon in CRS84} answers its length, or area and perimeter, on the
// Gauss-Krüger plane the siting checks use (web.Store.Measure); 400
// naming "geometry" for anything else.
func (h *webRoutes) measure(w http.ResponseWriter, r *http.Request) {
	if h.noDatabase(w) {
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMeasureBody))
	if err != nil {
		WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"code": "TooLarge", "field": "geometry",
			"description": fmt.Sprintf("请求体超过 %d KiB / the body is larger than %d KiB", maxMeasureBody>>10, maxMeasureBody>>10)})
		return
	}
	var in struct {
		Geometry json.RawMessage `json:"geometry"`
	}
	if p := jsonBodyProblem(b); p != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]any{"code": "InvalidBody", "field": "geometry", "description": p.ZH + " / " + p.EN})
		return
	}
	if err := json.Unmarshal(b, &in); err != nil || len(in.Geometry) == 0 {
		WriteJSON(w, http.StatusBadRequest, map[string]any{"code": "InvalidBody", "field": "geometry",
			"description": `请求体须为 {"geometry": GeoJSON LineString 或 Polygon} / the body must be {"geometry": a GeoJSON LineString or Polygon}`})
		return
	}
	m, err := h.store.Measure(r.Context(), in.Geometry)
	var me *web.MeasureError
	if errors.As(err, &me) {
		WriteJSON(w, http.StatusBadRequest, map[string]any{"code": "InvalidGeometry", "field": "geometry", "description": me.ZH + " / " + me.EN})
		return
	}
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

type webRoutes struct {
	s     *Server
	meta  *web.Meta
	store *web.Store
	sites *sitingRoutes
}

func (h *webRoutes) noDatabase(w http.ResponseWriter) bool {
	if h.store == nil {
		WriteError(w, http.StatusServiceUnavailable, "NotReady", "no database configured")
		return true
	}
	return false
}

func (h *webRoutes) metaJSON(w http.ResponseWriter, r *http.Request) {
	m := *h.meta
	if h.store != nil {
		sample, err := h.store.IsSample(r.Context())
		if err != nil {
			h.s.serverError(w, r, err)
			return
		}
		m.Sample = sample
		if m.Extent, err = h.store.Extent(r.Context()); err != nil {
			h.s.serverError(w, r, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-cache")
	WriteJSON(w, http.StatusOK, &m)
}

func (h *webRoutes) villages(w http.ResponseWriter, r *http.Request) {
	if h.noDatabase(w) {
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "limit must be an integer from 1 to 500")
			return
		}
		limit = n
	}
	vs, err := h.store.SearchVillages(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"villages": vs})
}

func (h *webRoutes) coverage(w http.ResponseWriter, r *http.Request) {
	if h.noDatabase(w) {
		return
	}
	body, version, err := h.store.CoverageGeoJSON(r.Context())
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	etag := fmt.Sprintf(`W/"cov-%x"`, version)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(body)
}

// sitePreview is one parsed site as the desk shows it before the check:
// the site facts of the siting API (area on the Gauss-Krüger plane, its
// EPSG code, village, 四至) and the site in EPSG:4490 (lon, lat).
type sitePreview struct {
	Site     siting.SiteFacts `json:"site"`
	Geometry json.RawMessage  `json:"geometry"`
}

// preview measures a site exactly as POST /siting/checks does (same body:
// JSON with a GeoJSON site and crs, or a 界址点 txt file as text/plain) and
// answers its facts without storing anything: 200 {"sites": [...]}, or
// the siting API's 400/422 error body.
func (h *webRoutes) preview(w http.ResponseWriter, r *http.Request) {
	if h.noDatabase(w) {
		return
	}
	sites, _, ok := h.sites.readSites(w, r)
	if !ok {
		return
	}
	out := make([]sitePreview, 0, len(sites))
	for _, site := range sites {
		res, err := h.sites.svc.Check(r.Context(), site, siting.Input{})
		if err != nil {
			h.sites.fail(w, r, err)
			return
		}
		out = append(out, sitePreview{Site: res.Site, Geometry: res.Geometry})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"sites": out})
}
