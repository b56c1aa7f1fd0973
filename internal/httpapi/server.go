// Package httpapi is villageplan's HTTP interface (gorilla/mux): health and
// readiness probes, Prometheus metrics, and — as the features, tiles and
// siting packages arrive — their handlers. Handlers read layers only through
// the catalog; no layer name is written in this package.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"villageplan/internal/db"
	"villageplan/internal/siting"
	"villageplan/layers"
	"villageplan/tiles"
)

// Server holds the dependencies of the HTTP interface. Build it with New;
// it has no package-level state, so several servers can run in one process
// (as the tests do).
type Server struct {
	opts     Options
	pool     *pgxpool.Pool
	catalog  *layers.Catalog
	logger   *slog.Logger
	router   *mux.Router
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	tiles    *tiles.Service
}

// Options configures a Server.
type Options struct {
	Pool    *pgxpool.Pool
	Catalog *layers.Catalog
	Logger  *slog.Logger
	// BaseURL is the external URL of the service root used in links
	// (e.g. https://gis.example.gov.cn/villageplan). Empty: links are
	// built from the request and the X-Forwarded-* headers.
	BaseURL string
	// RuleSet is the siting rule set in force; nil uses the one shipped
	// with the binary.
	RuleSet *siting.RuleSet
	// TileCacheBytes bounds the in-process tile cache (0: 256 MiB;
	// negative: no cache).
	TileCacheBytes int64
}

// New builds the server and its routes.
func New(opts Options) *Server {
	s := &Server{opts: opts, pool: opts.Pool, catalog: opts.Catalog, logger: opts.Logger, router: mux.NewRouter()}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.catalog == nil {
		s.catalog = layers.Default()
	}
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "villageplan_http_request_duration_seconds",
		Help:    "HTTP request duration in seconds, by route template and status code.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
	}, []string{"route", "code"})
	s.registry.MustRegister(s.requests)
	if s.pool != nil {
		s.registry.MustRegister(newPoolCollector(s.pool))
	}

	s.router.Use(s.observe)
	s.router.Use(checkParams) // NUL, invalid UTF-8, over-long values → 400 (params.go)
	s.router.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/readyz", s.handleReadyz).Methods(http.MethodGet, http.MethodHead)
	s.router.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	// Each concern mounts its routes from its own file.
	s.routeFeatures()
	s.routeTiles()
	s.routeSiting()
	s.routeWeb()
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "NotFound", "no resource at "+r.URL.Path)
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
	})
	return s
}

// Close stops the server's background work (the tile cache's
// LISTEN connection). The pool is the caller's to close.
func (s *Server) Close() {
	if s.tiles != nil {
		s.tiles.Close()
	}
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the router so that feature, tile and siting packages can
// mount their routes.
func (s *Server) Router() *mux.Router { return s.router }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

// Flush passes through to the underlying writer so that streamed responses
// keep streaming.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if tpl, err := cr.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the database is reachable and carries every
// migration of this binary, 503 with the reason otherwise.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.pool == nil {
		WriteError(w, http.StatusServiceUnavailable, "NotReady", "no database configured")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := db.Ready(ctx, s.pool); err != nil {
		WriteError(w, http.StatusServiceUnavailable, "NotReady", err.Error())
		return
	}
	applied, _, _ := db.SchemaVersion(ctx, s.pool)
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema_version": applied})
}

// WriteJSON writes v as a JSON body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	WriteJSONTyped(w, status, "application/json", v)
}

// WriteJSONTyped writes v as JSON with the given media type.
func WriteJSONTyped(w http.ResponseWriter, status int, mediaType string, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonMarshal encodes v without HTML escaping (links keep their & signs).
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// requestError answers 400 for a *paramError (naming the parameter) and
// falls back to serverError for anything else.
func (s *Server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		WriteError(w, http.StatusBadRequest, "InvalidParameterValue", pe.Error())
		return
	}
	s.serverError(w, r, err)
}

// serverError logs err and answers 500 with a JSON body; a request that the
// client abandoned is only logged at debug level.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		s.logger.Debug("request cancelled by client", "path", r.URL.Path, "err", err)
		return
	}
	s.logger.Error("request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
	WriteError(w, http.StatusInternalServerError, "ServerError", "the server could not answer this request; the error is in its log")
}

// ErrorBody is the JSON body of every error response, shaped like an OGC
// API exception: a machine code and a human description.
type ErrorBody struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// WriteError writes an ErrorBody with the given HTTP status.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	WriteJSON(w, status, ErrorBody{Code: code, Description: description})
}

// poolCollector exports pgxpool gauges to Prometheus.
type poolCollector struct {
	pool                         *pgxpool.Pool
	total, idle, acquired, maxCn *prometheus.Desc
}

func newPoolCollector(p *pgxpool.Pool) *poolCollector {
	d := func(n, h string) *prometheus.Desc { return prometheus.NewDesc("villageplan_db_pool_"+n, h, nil, nil) }
	return &poolCollector{pool: p,
		total: d("connections", "Open connections in the pool."), idle: d("idle_connections", "Idle connections."),
		acquired: d("acquired_connections", "Connections in use."), maxCn: d("max_connections", "Pool size limit.")}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.idle
	ch <- c.acquired
	ch <- c.maxCn
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.maxCn, prometheus.GaugeValue, float64(st.MaxConns()))
}

// baseURL is the external URL of the service root without a trailing
// slash: the configured BaseURL, else rebuilt from X-Forwarded-Proto,
// X-Forwarded-Host and X-Forwarded-Prefix (set by a reverse proxy), else
// from the request itself.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstToken(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := firstToken(r.Header.Get("X-Forwarded-Host")); h != "" {
		host = h
	}
	prefix := strings.TrimRight(firstToken(r.Header.Get("X-Forwarded-Prefix")), "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	return scheme + "://" + host + prefix
}

// firstToken is the first entry of a comma-separated header (proxies
// chain X-Forwarded-* values).
func firstToken(s string) string {
	s, _, _ = strings.Cut(s, ",")
	return strings.TrimSpace(s)
}
