package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"villageplan/internal/db"
	"villageplan/internal/features"
	"villageplan/tiles"
)

// MVTContentType is the media type of Mapbox Vector Tiles (IANA).
const MVTContentType = "application/vnd.mapbox-vector-tile"

// routeTiles mounts the vector-tile, TileJSON and style routes:
//
//	GET /tiles/{tileset}/{z}/{x}/{y}.mvt  MVT tile; tileset is a layer id or "map"
//	GET /tiles/{tileset}.json             TileJSON 3.0
//	GET /styles/default.json              MapLibre style of all layers
//
// Tile answers: 200 with the MVT (gzip-encoded when the client accepts
// gzip), 204 for a tile without features, 304 when If-None-Match matches,
// 400 for an address outside the pyramid or a filter the catalog does not
// allow, 404 for an unknown tileset, 503 without a database; errors are
// JSON (WriteError).
//
// datetime= (an RFC 3339 instant, on a layer's tileset and on "map") gives
// the tile as of that instant, from the same source as as-of items
// (features.AsOfSQL): signed-in users only (401 otherwise; the request is
// identified only when the parameter is present, see identifiedWhen), 400
// for a value that is not an instant or, on a layer's tileset, one before
// the layer's recorded history (as items; the map tileset shows each layer
// as its record implies: rows older than the history count as existing).
// An instant in the future is now: the current tile, with its ETag. As-of
// tiles are "private" and cached per instant and layer versions. TileJSON
// and style pass datetime on into their tile and TileJSON URLs.
//
// The tile cache holds Options.TileCacheBytes of compressed tiles (0: 256
// MiB; negative: no cache, as the uncached benchmarks run).
func (s *Server) routeTiles() {
	s.tiles = tiles.New(tiles.Options{Pool: s.pool, Catalog: s.catalog, Logger: s.logger,
		Registerer: s.registry, CacheBytes: s.opts.TileCacheBytes})
	h := &tileHandlers{svc: s.tiles, s: s}
	if s.pool != nil {
		h.fr = &featureRoutes{s: s, svc: features.New(s.pool, s.catalog)}
	}
	s.router.HandleFunc("/tiles/{tileset}/{z}/{x}/{y}.mvt", h.tile).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/tiles/{tileset}.json", h.tileJSON).Methods(http.MethodGet, http.MethodHead)
	s.routeOGCTiles(h)
	s.router.HandleFunc("/styles/default.json", h.style).Methods(http.MethodGet, http.MethodHead)
}

type tileHandlers struct {
	svc *tiles.Service
	s   *Server
	fr  *featureRoutes // history checks of datetime=; nil without a database
}

func (h *tileHandlers) tile(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ts, ok := h.svc.Tileset(v["tileset"])
	if !ok {
		h.tileError(w, r, tiles.ErrUnknownTileset, v["tileset"])
		return
	}
	a, err := tiles.ParseAddress(v["z"], v["x"], v["y"])
	if err != nil {
		h.tileError(w, r, err, ts.ID)
		return
	}
	q := r.URL.Query()
	var at time.Time
	if q.Has("datetime") {
		if !signedInForHistory(w, r) {
			return
		}
		if at, err = h.instant(r, ts, q.Get("datetime")); err != nil {
			h.s.requestError(w, r, err)
			return
		}
		q.Del("datetime")
	}
	f, err := tiles.ParseFilter(ts, q)
	if err != nil {
		h.tileError(w, r, err, ts.ID)
		return
	}
	f = f.AsOf(at)
	t, err := h.svc.Tile(r.Context(), ts, a, f, r.Header.Get("If-None-Match"))
	if err != nil {
		h.tileError(w, r, err, ts.ID)
		return
	}
	hd := w.Header()
	hd.Set("ETag", t.ETag)
	hd.Set("Cache-Control", h.svc.CacheControl(ts.ID))
	if !at.IsZero() {
		// history: for the signed-in caller, never for a shared cache
		hd.Set("Cache-Control", "private, no-cache")
	}
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("X-Tile-Cache", t.Outcome)
	switch {
	case t.NotModified:
		w.WriteHeader(http.StatusNotModified)
		return
	case t.Empty:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hd.Set("Content-Type", MVTContentType)
	// Each encoding is made at most once per rendering: a fresh tile is
	// ST_AsMVT's raw bytes, compressed only for a client that accepts gzip;
	// a cached tile is gzip bytes, decompressed once for the first client
	// that does not.
	var body []byte
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = t.Gzip()
	} else {
		raw, err := t.Raw()
		if err != nil {
			h.tileError(w, r, err, ts.ID)
			return
		}
		body = raw
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// instant parses the datetime of a tile request: a zero time for an
// instant after now (the current tile), a *paramError for a value that is
// not an RFC 3339 instant or, on a layer's tileset, one before its
// recorded history.
func (h *tileHandlers) instant(r *http.Request, ts *tiles.Tileset, s string) (time.Time, error) {
	var at time.Time
	var err error
	if ts.ID != tiles.MapTileset && h.fr != nil {
		at, err = h.fr.parseInstant(r.Context(), ts.Layers[0], "datetime", s)
	} else {
		at, err = parseRFC3339Instant("datetime", s)
	}
	if err != nil {
		return time.Time{}, err
	}
	if at.After(time.Now()) {
		return time.Time{}, nil
	}
	return at, nil
}

// tileError maps the tile service's errors to HTTP statuses, in one place.
func (h *tileHandlers) tileError(w http.ResponseWriter, r *http.Request, err error, tileset string) {
	var (
		addrErr   *tiles.AddressError
		filterErr *tiles.FilterError
	)
	switch {
	case errors.As(err, &addrErr):
		WriteError(w, http.StatusBadRequest, "InvalidTileAddress", addrErr.Error())
	case errors.As(err, &filterErr):
		WriteError(w, http.StatusBadRequest, "InvalidParameterValue", filterErr.Error())
	case errors.Is(err, tiles.ErrUnknownTileset):
		WriteError(w, http.StatusNotFound, "NotFound", "no tileset "+strconv.Quote(tileset)+"; tilesets are \"map\" and the layer ids of /collections")
	case errors.Is(err, tiles.ErrNoDatabase):
		WriteError(w, http.StatusServiceUnavailable, "NotReady", err.Error())
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client went away; nobody reads the answer.
		h.s.logger.Debug("tile request abandoned", "path", r.URL.Path, "err", err)
		w.WriteHeader(499)
	case r.Context().Err() != nil || db.IsUnavailable(err) || db.IsTimeout(err):
		h.s.serverError(w, r, err) // 503 with Retry-After, naming the limit or the outage
	default:
		h.s.logger.Error("tile failed", "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusInternalServerError, "TileFailed", "the tile could not be rendered; see the server log")
	}
}

func (h *tileHandlers) tileJSON(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["tileset"]
	ts, ok := h.svc.Tileset(id)
	if !ok {
		h.tileError(w, r, tiles.ErrUnknownTileset, id)
		return
	}
	dt, err := datetimeQuery(r)
	if err != nil {
		h.s.requestError(w, r, err)
		return
	}
	tj, err := h.svc.TileJSON(r.Context(), ts, h.s.baseURL(r))
	if err != nil {
		h.tileError(w, r, err, id)
		return
	}
	for i := range tj.Tiles {
		tj.Tiles[i] += dt
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, tj)
}

func (h *tileHandlers) style(w http.ResponseWriter, r *http.Request) {
	dt, err := datetimeQuery(r)
	if err != nil {
		h.s.requestError(w, r, err)
		return
	}
	st, err := h.svc.Style(r.Context(), h.s.baseURL(r))
	if err != nil {
		h.tileError(w, r, err, tiles.MapTileset)
		return
	}
	if src, ok := st["sources"].(map[string]any)[tiles.SourceID].(map[string]any); ok && dt != "" {
		src["url"] = src["url"].(string) + dt
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, st)
}

// datetimeQuery returns "?datetime=…" (escaped) for a TileJSON or style
// request with a datetime parameter, to pass on into the URLs it names, ""
// without one, or a *paramError when it is not an RFC 3339 instant. The
// instant is checked against a layer's history by the tiles themselves.
func datetimeQuery(r *http.Request) (string, error) {
	q := r.URL.Query()
	if !q.Has("datetime") {
		return "", nil
	}
	dt := q.Get("datetime")
	if _, err := parseRFC3339Instant("datetime", dt); err != nil {
		return "", err
	}
	return "?datetime=" + url.QueryEscape(dt), nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (RFC 9110 §12.5.3: "gzip", "x-gzip" or "*" with a non-zero q).
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
