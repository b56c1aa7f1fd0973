package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"villageplan/internal/db"
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
// The tile cache holds Options.TileCacheBytes of compressed tiles (0: 256
// MiB; negative: no cache, as the uncached benchmarks run).
func (s *Server) routeTiles() {
	s.tiles = tiles.New(tiles.Options{Pool: s.pool, Catalog: s.catalog, Logger: s.logger,
		Registerer: s.registry, CacheBytes: s.opts.TileCacheBytes})
	h := &tileHandlers{svc: s.tiles, s: s}
	s.router.HandleFunc("/tiles/{tileset}/{z}/{x}/{y}.mvt", h.tile).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/tiles/{tileset}.json", h.tileJSON).Methods(http.MethodGet, http.MethodHead)
	s.routeOGCTiles(h)
	s.router.HandleFunc("/styles/default.json", h.style).Methods(http.MethodGet, http.MethodHead)
}

type tileHandlers struct {
	svc *tiles.Service
	s   *Server
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
	f, err := tiles.ParseFilter(ts, r.URL.Query())
	if err != nil {
		h.tileError(w, r, err, ts.ID)
		return
	}
	t, err := h.svc.Tile(r.Context(), ts, a, f, r.Header.Get("If-None-Match"))
	if err != nil {
		h.tileError(w, r, err, ts.ID)
		return
	}
	hd := w.Header()
	hd.Set("ETag", t.ETag)
	hd.Set("Cache-Control", h.svc.CacheControl(ts.ID))
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
	body := t.Gzip
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
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
	tj, err := h.svc.TileJSON(r.Context(), ts, h.s.baseURL(r))
	if err != nil {
		h.tileError(w, r, err, id)
		return
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, tj)
}

func (h *tileHandlers) style(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Style(r.Context(), h.s.baseURL(r))
	if err != nil {
		h.tileError(w, r, err, tiles.MapTileset)
		return
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, st)
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
