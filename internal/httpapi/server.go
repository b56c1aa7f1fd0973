// Package httpapi is villageplan's HTTP interface (gorilla/mux): health and
// readiness probes, Prometheus metrics, and — as the features, tiles and
// siting packages arrive — their handlers. Handlers read layers only through
// the catalog; no layer name is written in this package.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/buildinfo"
	"villageplan/internal/db"
	"villageplan/internal/siting"
	"villageplan/layers"
	"villageplan/tiles"
)

// Server holds the dependencies of the HTTP interface. Build it with New;
// it has no package-level state, so several servers can run in one process
// (as the tests do).
type Server struct {
	opts Options
	// pool serves interactive requests (pages, features, tiles, map
	// views); sitingPool the siting checks and desk previews;
	// downloadPool the file downloads (DownloadSlots connections). Each is
	// derived from Options.Pool with its class's limit as the sessions'
	// statement_timeout (classPools); base is Options.Pool itself
	// (readiness).
	pool, sitingPool, downloadPool, base *pgxpool.Pool
	catalog                              *layers.Catalog
	logger                               *slog.Logger
	router                               *mux.Router
	registry                             *prometheus.Registry
	requests                             *prometheus.HistogramVec
	tiles                                *tiles.Service
	// Domain metrics: stored siting checks by overall verdict; downloads
	// by layer, format and outcome, and the features they carried.
	checksTotal      *prometheus.CounterVec
	downloadsTotal   *prometheus.CounterVec
	downloadFeatures *prometheus.CounterVec

	limits    Limits
	downloads chan struct{} // download slots (Limits.DownloadSlots)
	limiters  *limiters
	// permissions indexes PermissionTable by "METHOD path-template".
	permissions map[string]*RoutePermission
	accounts    *auth.Store

	readyMu     sync.Mutex
	readyLast   readyResult
	readyFlight singleflight.Group

	// written is each principal's primary WAL position after its last
	// successful write (read-your-writes, replicas.go).
	writtenMu sync.Mutex
	written   map[string]uint64
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
	// TrustedProxies are the networks of the reverse proxies whose
	// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix headers
	// are believed when BaseURL is empty. None by default: a client
	// elsewhere cannot rewrite the links of (cacheable) responses.
	TrustedProxies []netip.Prefix
	// Limits bound what one request may cost; zero fields take the
	// defaults of DefaultLimits.
	Limits Limits
	// RateLimits override DefaultRateLimits per class ("siting",
	// "download", "write"); a zero Rate turns a class's limit off.
	RateLimits map[string]RateLimit
	// Authenticator tells who sent each request (sessions and API tokens,
	// package auth); nil serves every request as anonymous, unless
	// Accounts is set (or defaulted), which then authenticates.
	Authenticator auth.Authenticator
	// AccessLog receives one "access" record per request (see accessLog);
	// nil logs none.
	AccessLog *slog.Logger
	// Accounts is the accounts store of the login, account and admin
	// routes; nil with a Pool uses auth.NewStore(Pool).
	Accounts *auth.Store
	// TileCacheBytes bounds the in-process tile cache (0: 256 MiB;
	// negative: no cache).
	TileCacheBytes int64
	// Applications configures the application desk (deadlines, document
	// cap, tolerances); zero fields take its defaults.
	Applications applications.Config
	// Replicas, if set, serve the read-only feature, download and tile
	// requests from healthy streaming standbys (replicas.go); nil (the
	// default) reads everything from Pool. The caller closes it.
	Replicas *db.ReplicaSet
}

// Limits bound the time and connections of each request class. They are
// the one place where these bounds live; `villageplan serve` exposes them as
// flags.
type Limits struct {
	// Interactive is the limit of feature pages, single features,
	// collections, tiles, map views and probes.
	//
	// Each class's limit (Interactive, Siting, Download) bounds its
	// database work on the server side — statement_timeout and
	// idle_in_transaction_session_timeout of the sessions of the class's
	// own pool, set when a connection opens, so no request pays a round
	// trip for it — and, as a backstop for the time spent outside a
	// statement (waiting for a connection, writing), the request's context
	// deadline at the limit plus DeadlineGrace. Either answers 503 with
	// Retry-After and a JSON body naming the limit; the server-side
	// timeout leaves the connection usable, a cancelled context closes it.
	Interactive time.Duration
	// Siting is the deadline of a siting check or desk preview.
	Siting time.Duration
	// Download is the deadline of a whole file download (f=gpkg, shp…).
	Download time.Duration
	// DownloadSlots is how many downloads may run at once; each holds a
	// database connection for its whole length, so they are bounded to
	// leave the pool to interactive requests. A download beyond them is
	// answered 503 with Retry-After.
	DownloadSlots int
	// WriteStall is how long one write of a streamed response may block on
	// a client that does not read before the connection is dropped.
	WriteStall time.Duration
	// Import and ImportIdle bound `villageplan import` (not an HTTP
	// class; kept here so that every limit lives in one place): the
	// statement_timeout and idle_in_transaction_session_timeout of its
	// sessions. A statement past Import fails the import, which rolls
	// back whole; a client that hangs inside its transaction longer than
	// ImportIdle is disconnected and its locks on the layer freed.
	Import, ImportIdle time.Duration
}

// DeadlineGrace is how long after its class's limit a request's context
// is cancelled: the database's statement_timeout (at the limit) fires
// first and keeps the connection, which a cancelled context would close.
const DeadlineGrace = time.Second

// DefaultLimits are the limits used where Options.Limits leaves a zero.
var DefaultLimits = Limits{Interactive: 15 * time.Second, Siting: 15 * time.Second, Download: 10 * time.Minute,
	DownloadSlots: 2, WriteStall: 20 * time.Second, Import: time.Hour, ImportIdle: 10 * time.Minute}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Interactive > 0 {
		d.Interactive = l.Interactive
	}
	if l.Siting > 0 {
		d.Siting = l.Siting
	}
	if l.Download > 0 {
		d.Download = l.Download
	}
	if l.DownloadSlots > 0 {
		d.DownloadSlots = l.DownloadSlots
	}
	if l.WriteStall > 0 {
		d.WriteStall = l.WriteStall
	}
	if l.Import > 0 {
		d.Import = l.Import
	}
	if l.ImportIdle > 0 {
		d.ImportIdle = l.ImportIdle
	}
	return d
}

// New builds the server and its routes.
func New(opts Options) *Server {
	s := &Server{opts: opts, pool: opts.Pool, base: opts.Pool, catalog: opts.Catalog, logger: opts.Logger, router: mux.NewRouter()}
	s.limits = opts.Limits.withDefaults()
	s.downloads = make(chan struct{}, s.limits.DownloadSlots)
	s.limiters = newLimiters(opts.RateLimits)
	s.permissions = indexPermissions(PermissionTable)
	s.accounts = opts.Accounts
	if s.accounts == nil && s.pool != nil {
		s.accounts = auth.NewStore(s.pool)
	}
	if s.opts.Authenticator == nil && s.accounts != nil {
		s.opts.Authenticator = s.accounts
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.limiters.pool, s.limiters.logger = opts.Pool, s.logger
	s.classPools()
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
	s.checksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "villageplan_siting_checks_total",
		Help: "Stored siting checks by overall verdict (BLOCK, PERMIT-PATH, REVIEW, PASS).",
	}, []string{"verdict"})
	s.downloadsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "villageplan_downloads_total",
		Help: "Layer downloads by layer, format and outcome (complete, aborted after the first byte).",
	}, []string{"layer", "format", "outcome"})
	s.downloadFeatures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "villageplan_download_features_total",
		Help: "Features written by complete layer downloads, by layer and format.",
	}, []string{"layer", "format"})
	s.registry.MustRegister(s.checksTotal, s.downloadsTotal, s.downloadFeatures)
	if s.pool != nil {
		s.registry.MustRegister(newPoolCollector(s.pool, "interactive"), newPoolCollector(s.sitingPool, "siting"),
			newPoolCollector(s.downloadPool, "download"))
	}
	bi := buildinfo.Get()
	s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "villageplan_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	}, func() float64 { return 1 }))

	s.router.Use(s.observe, s.identify, s.authorize, s.csrf)
	s.router.Use(checkParams) // NUL, invalid UTF-8, over-long values → 400 (params.go)
	s.router.Use(s.admit)
	if s.opts.Replicas != nil && s.pool != nil {
		s.router.Use(s.routeReplicas)
		s.registry.MustRegister(s.opts.Replicas.Collectors()...)
	}
	if s.opts.BaseURL == "" && len(s.opts.TrustedProxies) > 0 {
		s.router.Use(varyForwarded)
	}
	s.router.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/readyz", s.handleReadyz).Methods(http.MethodGet, http.MethodHead)
	s.router.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	// Each concern mounts its routes from its own file.
	s.routeFeatures()
	s.routeEditing()
	s.routeHistory()
	s.routeChanges()
	s.routeCoverage()
	s.routeTiles()
	s.routeQGIS()
	s.routeSiting()
	s.routeApplications()
	s.routeProjects()
	s.routeWorkdays()
	s.routeIndicators()
	s.routeAssessment()
	s.routeWeb()
	s.routeAccounts()
	// Unmatched requests skip the router's middleware; observe them too,
	// so scanners show in the metrics and the access log.
	s.router.NotFoundHandler = s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "NotFound", "no resource at "+r.URL.Path)
	}))
	s.router.MethodNotAllowedHandler = s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
	}))
	return s
}

// classPools derives one pool per request class from Options.Pool, each
// session bounded by its class's limit on the database side
// (db.SessionLimits): interactive requests get as many connections as
// Options.Pool, siting checks as many again (they no longer take
// connections from pages and tiles), downloads DownloadSlots. The pools
// connect lazily.
func (s *Server) classPools() {
	if s.base == nil {
		return
	}
	derive := func(class string, maxConns int32, limit time.Duration) *pgxpool.Pool {
		p, err := db.DerivePool(s.base, maxConns, db.SessionLimits{Statement: limit, IdleInTransaction: limit})
		if err != nil { // only a broken configuration, which Options.Pool already accepted
			s.logger.Error("database pool of a request class; using the shared pool without server-side limits", "class", class, "err", err)
			return s.base
		}
		return p
	}
	s.pool = derive("interactive", 0, s.limits.Interactive)
	s.sitingPool = derive("siting", 0, s.limits.Siting)
	s.downloadPool = derive("download", int32(s.limits.DownloadSlots), s.limits.Download)
}

// Close stops the server's background work (the tile cache's
// LISTEN connection) and closes the pools of the request classes.
// Options.Pool is the caller's to close.
func (s *Server) Close() {
	if s.tiles != nil {
		s.tiles.Close()
	}
	for _, p := range []*pgxpool.Pool{s.pool, s.sitingPool, s.downloadPool} {
		if p != nil && p != s.base {
			p.Close()
		}
	}
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the router so that feature, tile and siting packages can
// mount their routes.
func (s *Server) Router() *mux.Router { return s.router }

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
	// user is the principal's username once identify has run (for the
	// access log; identify sees the writer, observe does not see the
	// inner request's context).
	user string
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines of streamed downloads).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through to the underlying writer so that streamed responses
// keep streaming.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requestClass names the limit class of a request: "download" for file
// downloads (f=geojson|gpkg|shp|csv|kml|jzd), "siting" for checks and desk
// previews, "interactive" for everything else.
func requestClass(r *http.Request) string {
	switch {
	// Only a query with an f parameter can be a download: no parse of
	// the query string on the tile and feature paths that have none.
	case strings.Contains(r.URL.RawQuery, "f=") && isDownload(r.URL.Query().Get("f")):
		return "download"
	case strings.HasPrefix(r.URL.Path, "/siting/") || r.URL.Path == "/desk/preview":
		return "siting"
	case (strings.HasPrefix(r.URL.Path, "/indicators") || strings.HasPrefix(r.URL.Path, "/assessment/")) && r.Method != http.MethodPut:
		// A cold county-wide report (network reach of every household)
		// runs for tens of seconds on the download pool; a cached one is
		// instant. Not rate-limited as a download. The 考核评估 reads
		// that report (its first request of a year computes it).
		return "indicators"
	}
	return "interactive"
}

// admit classifies the request once, applies the client's rate limit of
// its class (rateLimited) and gives it the deadline of its class (Limits)
// plus DeadlineGrace; the database's own statement_timeout of the class's
// pool ends a statement at the limit itself.
func (s *Server) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class := requestClass(r)
		method := r.Method
		if isQueryPOST(r) {
			method = http.MethodGet // a read
		}
		if s.rateLimited(w, r, rateClass(class, method)) {
			return
		}
		d := s.limits.Interactive
		switch class {
		case "download", "indicators":
			d = s.limits.Download
		case "siting":
			d = s.limits.Siting
		}
		ctx, cancel := context.WithTimeout(r.Context(), d+DeadlineGrace)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			// An aborted stream (panic(http.ErrAbortHandler)) is still
			// counted, then net/http drops the connection.
			if v := recover(); v != nil {
				s.requests.WithLabelValues(routeTemplate(r), "aborted").Observe(time.Since(start).Seconds())
				s.accessLog(r, sw, id, start, "aborted")
				panic(v)
			}
		}()
		next.ServeHTTP(sw, r)
		s.requests.WithLabelValues(routeTemplate(r), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		s.accessLog(r, sw, id, start, "")
	})
}

// accessLog writes one line per request to Options.AccessLog (nothing when
// it is nil): method, path (without the query string, which may carry
// filter values), route template, status, response bytes, duration, client
// address, request id and user.
func (s *Server) accessLog(r *http.Request, sw *statusWriter, id string, start time.Time, outcome string) {
	if s.opts.AccessLog == nil {
		return
	}
	user := sw.user
	if user == "" {
		user = "-"
	}
	status := strconv.Itoa(sw.code)
	if outcome != "" {
		status = outcome
	}
	s.opts.AccessLog.LogAttrs(r.Context(), slog.LevelInfo, "access",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", routeTemplate(r)),
		slog.String("status", status), slog.Int64("bytes", sw.bytes),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("remote", r.RemoteAddr), slog.String("request_id", id), slog.String("user", user))
}

// validRequestID accepts a client's X-Request-Id of 1–64 characters from
// [A-Za-z0-9._-] (what proxies and tracing send); anything else is
// replaced, so the id is safe to log and to store in the audit log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newRequestID is 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 with the schema version when the database is
// reachable and carries every migration of this binary, else 503 with the
// reason and Retry-After. A burst of probes shares one database query
// (readiness is also cached for readyCacheTTL), so probes never pile up on
// the pool.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.pool == nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "NotReady", "no database configured")
		return
	}
	res := s.readiness()
	if res.err != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "NotReady", res.err.Error())
		return
	}
	body := map[string]any{"status": "ready", "schema_version": res.version}
	if s.opts.Replicas != nil {
		// Replicas down leave the service ready: the primary serves.
		body["replicas"] = s.opts.Replicas.States()
	}
	WriteJSON(w, http.StatusOK, body)
}

// readyCacheTTL is how long one readiness answer serves further probes.
const readyCacheTTL = 500 * time.Millisecond

type readyResult struct {
	version int64
	err     error
	at      time.Time
}

// readiness returns a fresh-enough readiness result, running at most one
// database query at a time for all callers.
func (s *Server) readiness() readyResult {
	s.readyMu.Lock()
	last := s.readyLast
	s.readyMu.Unlock()
	if !last.at.IsZero() && time.Since(last.at) < readyCacheTTL {
		return last
	}
	v, _, _ := s.readyFlight.Do("ready", func() (any, error) {
		// Not the request's context: a probe that gives up must not fail
		// the answer shared with the others.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		version, err := db.Ready(ctx, s.base)
		res := readyResult{version: version, err: err, at: time.Now()}
		s.readyMu.Lock()
		s.readyLast = res
		s.readyMu.Unlock()
		return res, nil
	})
	return v.(readyResult)
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

// serverError answers a failure that is not the client's: 503 with
// Retry-After when the database is unreachable, restarting or the
// request's time limit passed (the body names the limit), else 500; every
// body is JSON. A request that the client abandoned is only logged at
// debug level.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		s.logger.Debug("request cancelled by client", "path", r.URL.Path, "err", err)
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded) || db.IsTimeout(err) {
		class := requestClass(r)
		limit := map[string]time.Duration{"interactive": s.limits.Interactive, "siting": s.limits.Siting, "download": s.limits.Download}[class]
		s.logger.Warn("request over its time limit", "path", r.URL.Path, "class", class, "limit", limit, "err", err)
		w.Header().Set("Retry-After", "5")
		WriteError(w, http.StatusServiceUnavailable, "Timeout",
			fmt.Sprintf("请求超过了%s请求的时限 %s。 The request exceeded the %s limit of %s requests; narrow it (bbox, filter, limit) or try again later.", className[class], limit, limit, class))
		return
	}
	if db.IsUnavailable(err) {
		s.logger.Warn("database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "2")
		WriteError(w, http.StatusServiceUnavailable, "DatabaseUnavailable",
			"数据库暂时不可用，请稍后重试。 The database is unavailable (restarting or unreachable); try again shortly.")
		return
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") && r.URL.Query().Get("filter") != "" {
		// A data exception (SQLSTATE class 22: numeric overflow of the
		// filter's arithmetic, …) comes from the values the request gave.
		s.logger.Info("filter could not be evaluated", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
		WriteError(w, http.StatusBadRequest, "InvalidParameterValue", (&paramError{param: "filter",
			zh:  "过滤条件无法计算（" + pgErr.Message + "）；请检查其中的算术和数值范围",
			msg: "the filter cannot be evaluated (" + pgErr.Message + "); check its arithmetic and the size of its numbers"}).Error())
		return
	}
	s.logger.Error("request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
	WriteError(w, http.StatusInternalServerError, "ServerError", "the server could not answer this request; the error is in its log")
}

// className is the Chinese name of each request class for messages.
var className = map[string]string{"interactive": "交互", "siting": "选址审查", "download": "下载"}

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

func newPoolCollector(p *pgxpool.Pool, class string) *poolCollector {
	d := func(n, h string) *prometheus.Desc {
		return prometheus.NewDesc("villageplan_db_pool_"+n, h, nil, prometheus.Labels{"class": class})
	}
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

// varyForwarded marks every response as depending on the X-Forwarded-*
// headers, which links are built from when trusted proxies are configured,
// so that shared caches keep one copy per external URL.
func varyForwarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix")
		next.ServeHTTP(w, r)
	})
}

// fromTrustedProxy reports whether the request's peer address lies in one
// of Options.TrustedProxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.opts.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// baseURL is the external URL of the service root without a trailing
// slash: the configured BaseURL, else — for a request that came through a
// trusted proxy (Options.TrustedProxies) — rebuilt from X-Forwarded-Proto,
// X-Forwarded-Host and X-Forwarded-Prefix, else from the request itself.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !s.fromTrustedProxy(r) {
		return scheme + "://" + r.Host
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
