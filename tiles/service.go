package tiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"villageplan/internal/db"
	"villageplan/layers"
)

// Errors of the tile service; the HTTP layer maps each to a status.
var (
	// ErrUnknownTileset: no layer and not MapTileset (404).
	ErrUnknownTileset = errors.New("unknown tileset")
	// ErrNoDatabase: the service was built without a pool (503).
	ErrNoDatabase = errors.New("no database configured")
)

// DefaultCacheControl is the Cache-Control of tiles, TileJSON and style:
// browsers and CDNs may store them but must revalidate each use with the
// ETag (a 304 costs no database query), because any edit must show at once.
const DefaultCacheControl = "public, no-cache"

// Options configures a Service.
type Options struct {
	// Pool is the database; nil gives a service that answers ErrNoDatabase
	// for tiles (TileJSON and style still work, without data bounds).
	Pool *pgxpool.Pool
	// Catalog lists the layers; every layer is a tileset, and MapTileset
	// holds all of them.
	Catalog *layers.Catalog
	Logger  *slog.Logger
	// Registerer receives the Prometheus collectors (optional).
	Registerer prometheus.Registerer
	// CacheBytes bounds the in-process cache (compressed tiles plus
	// bookkeeping). 0 means 256 MiB; negative disables the cache.
	CacheBytes int64
	// CacheControl overrides DefaultCacheControl per tileset ID, for
	// example a max-age for a layer that is only replaced by yearly imports.
	CacheControl map[string]string
	// Heartbeat is how often the change listener proves its connection and
	// re-reads layer_version even without notifications; it bounds how long
	// a silently broken listener connection can leave stale tiles in the
	// cache. 0 means 5 s.
	Heartbeat time.Duration
	// RenderTimeout bounds one tile rendering. 0 means 30 s.
	RenderTimeout time.Duration
	// MaxTileBytes is the compressed size limit of a tile; 0 means
	// MaxTileBytes (500 KB).
	MaxTileBytes int
}

// Service renders, caches and validates vector tiles. Build it with New and
// stop its listener with Close. It is safe for concurrent use; several
// services (in one or many processes) may share one database.
type Service struct {
	pool     *pgxpool.Pool
	catalog  *layers.Catalog
	logger   *slog.Logger
	tilesets map[string]*Tileset
	order    []*Tileset
	cacheCtl map[string]string
	timeout  time.Duration
	maxBytes int

	view    *versionView
	cache   *lru
	flights flightGroup
	metrics *metrics

	infoMu sync.Mutex
	info   map[string]*tileJSONInfo

	stop context.CancelFunc
	done chan struct{}
}

// New builds the service and, when a pool is given, starts the layer-change
// listener on a dedicated connection. The listener ends with Close or when
// the pool is closed.
func New(opts Options) *Service {
	s := &Service{
		pool: opts.Pool, catalog: opts.Catalog, logger: opts.Logger,
		tilesets: map[string]*Tileset{}, cacheCtl: opts.CacheControl, timeout: opts.RenderTimeout,
		view: newVersionView(), metrics: newMetrics(), info: map[string]*tileJSONInfo{},
		done: make(chan struct{}),
	}
	if s.catalog == nil {
		s.catalog = layers.Default()
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	s.maxBytes = opts.MaxTileBytes
	if s.maxBytes <= 0 {
		s.maxBytes = MaxTileBytes
	}
	s.flights.timeout = s.timeout
	limit := opts.CacheBytes
	if limit == 0 {
		limit = 256 << 20
	}
	s.cache = newLRU(limit)
	s.cache.onChange = func(b int64, n int) { s.metrics.bytes.Set(float64(b)); s.metrics.entries.Set(float64(n)) }
	s.view.onChange = func(changed map[string]Version) { s.cache.purge(changed) }

	all := s.catalog.Layers()
	for _, l := range all {
		ts := newTileset(l.ID, []*layers.Layer{l})
		s.tilesets[ts.ID] = ts
		s.order = append(s.order, ts)
	}
	if _, clash := s.tilesets[MapTileset]; !clash {
		ts := newTileset(MapTileset, all)
		s.tilesets[MapTileset] = ts
		s.order = append([]*Tileset{ts}, s.order...)
	}
	// Build every statement now, as martin does: one per tileset and zoom
	// band (and variant), shared by the zooms of a band.
	for _, ts := range s.order {
		for z := 0; z <= MaxZoom; z++ {
			if len(ts.LayersAt(z)) > 0 {
				ts.statement(z, z < DetailZoom, Filter{})
				ts.statement(z, true, Filter{})
			}
		}
	}
	if opts.Registerer != nil {
		for _, c := range s.metrics.collectors() {
			opts.Registerer.MustRegister(c)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	if s.pool == nil {
		close(s.done)
		return s
	}
	hb := opts.Heartbeat
	if hb <= 0 {
		hb = 5 * time.Second
	}
	ln := &listener{pool: s.pool, view: s.view, logger: s.logger, heartbeat: hb, up: func(up bool) {
		if up {
			s.metrics.listener.Set(1)
		} else {
			s.metrics.listener.Set(0)
		}
	}}
	go func() {
		defer close(s.done)
		ln.run(ctx)
	}()
	return s
}

// Close stops the change listener and waits for it to end.
func (s *Service) Close() {
	s.stop()
	<-s.done
}

// Tileset returns the tileset with the given ID.
func (s *Service) Tileset(id string) (*Tileset, bool) {
	ts, ok := s.tilesets[id]
	return ts, ok
}

// Tilesets returns MapTileset first, then one tileset per layer in map
// order.
func (s *Service) Tilesets() []*Tileset { return append([]*Tileset(nil), s.order...) }

// CacheControl returns the Cache-Control header value for tileset id.
func (s *Service) CacheControl(id string) string {
	if v, ok := s.cacheCtl[id]; ok {
		return v
	}
	return DefaultCacheControl
}

// Refresh reads every layer's version from the database now. A writer in
// this process that calls it after its commit (and before answering its
// client) makes its edit visible to the very next tile request of this
// process, without waiting for the change notification; other processes
// see the edit when the notification reaches them (about a millisecond).
func (s *Service) Refresh(ctx context.Context) error {
	if s.pool == nil {
		return ErrNoDatabase
	}
	vs, err := readVersions(ctx, s.pool)
	if err != nil {
		return err
	}
	s.view.observe(vs)
	return nil
}

// Live reports whether cached tiles are currently validated by the change
// listener (true) or by a read of layer_version per request (false).
func (s *Service) Live() bool { return s.view.isLive() }

// Tile is the answer to a tile request.
type Tile struct {
	// RawSize is the length of the uncompressed MVT in bytes.
	RawSize int
	// Empty: no layer of the tileset has a feature in this tile.
	Empty bool
	// NotModified: the request's If-None-Match matched ETag.
	NotModified bool
	// ETag is the weak entity tag of the tile. It changes when the data of
	// any layer in the tile changes, and with the tile SQL. Both encodings
	// of a tile share it (the HTTP answer varies by Accept-Encoding).
	ETag string
	// Outcome is "hit", "miss", "shared", "not_modified" or "stale" (served
	// from the cache while the database could not be read).
	Outcome string

	e *entry
}

// Gzip returns the gzip-compressed MVT (nil when Empty or NotModified).
// It is compressed at most once per rendering: the first call of any
// request holding the same rendering pays for it.
func (t *Tile) Gzip() []byte {
	if t.e == nil {
		return nil
	}
	return t.e.gzipBytes()
}

// Raw returns the uncompressed MVT (nil when Empty or NotModified): the
// bytes ST_AsMVT returned for a fresh rendering; for a cached tile,
// decompressed once, on the first call, and kept with it.
func (t *Tile) Raw() ([]byte, error) {
	if t.e == nil {
		return nil, nil
	}
	return t.e.rawBytes()
}

// Tile returns tile a of ts, filtered by f (see ParseFilter).
// ifNoneMatch is the request's If-None-Match header ("" if none).
//
// The cache key and the ETag are built from the versions of the layers
// visible at a.Z: from the live version view (no database query) or, when
// the change listener is down, from a read of layer_version. A cached tile
// is served only under the versions it was read at, so an edit makes every
// cached tile of its layer (and of MapTileset) unreachable at once.
func (s *Service) Tile(ctx context.Context, ts *Tileset, a Address, f Filter, ifNoneMatch string) (*Tile, error) {
	ls := ts.LayersAt(a.Z)
	if len(ls) == 0 {
		// Outside every member layer's zoom range: empty, no query.
		etag := makeETag("nolayers", ts.ID+"/"+a.String())
		if etagMatches(ifNoneMatch, etag) {
			s.count(ts, "not_modified")
			return &Tile{Empty: true, NotModified: true, ETag: etag, Outcome: "not_modified"}, nil
		}
		s.count(ts, "hit")
		return &Tile{Empty: true, ETag: etag, Outcome: "hit"}, nil
	}
	if s.pool == nil {
		return nil, ErrNoDatabase
	}
	base := ts.statement(a.Z, a.Z < DetailZoom, f)
	vers, live := s.view.get(ls)
	// versionsErr is set when the versions could not be read: then the
	// last versions seen are used and only the cache answers
	// (stale-if-error: map views that worked a moment ago keep working
	// with their ETags while the database is unreachable; edits cannot
	// happen meanwhile).
	var versionsErr error
	if !live {
		if all, err := readVersions(ctx, s.pool); err != nil {
			versionsErr = err
		} else {
			s.view.observe(all)
			vers = pick(all, ls)
		}
	}
	key := cacheKey(ts, a, f, ls, vers)
	etag := makeETag(base.digest, key)
	notModified, hit := "not_modified", "hit"
	if versionsErr != nil {
		notModified, hit = "stale", "stale"
	}
	if etagMatches(ifNoneMatch, etag) {
		s.count(ts, notModified)
		return &Tile{NotModified: true, ETag: etag, Outcome: notModified}, nil
	}
	if e, ok := s.cache.get(key); ok {
		s.count(ts, hit)
		return tileOf(e, hit), nil
	}
	if versionsErr != nil {
		s.count(ts, "error")
		return nil, versionsErr
	}
	// A rendering on a read replica may be older than key says (the
	// replica has not replayed the newest edit yet; it is cached under
	// its own snapshot's versions): it is not shared with requests
	// that read the primary (read-your-writes) or another replica.
	flightKey := key
	if r := db.ReplicaFrom(ctx); r != nil {
		flightKey += "@" + r.Name
	}
	e, shared, err := s.flights.do(ctx, flightKey, func(ctx context.Context) (*entry, error) {
		return s.render(ctx, ts, a, f, ls, base)
	})
	if err != nil {
		s.count(ts, "error")
		return nil, err
	}
	outcome := "miss"
	if shared {
		outcome = "shared"
	}
	s.count(ts, outcome)
	return tileOf(e, outcome), nil
}

func (s *Service) count(ts *Tileset, outcome string) {
	s.metrics.requests.WithLabelValues(ts.ID, outcome).Inc()
}

func tileOf(e *entry, outcome string) *Tile {
	return &Tile{RawSize: e.raw, Empty: e.raw == 0, ETag: e.etag, Outcome: outcome, e: e}
}

// render runs the tile statement. The MVT is compressed here only when
// its size must be checked (a raw MVT that could be over the limit once
// compressed) or when the tile goes into the cache, which keeps gzip
// bytes; otherwise the answer carries the raw MVT and is compressed, once,
// only for a client that accepts gzip. A tile whose compressed size
// exceeds the limit (Options.MaxTileBytes) is rendered again (at most
// maxRetries times) with every layer capped to fewer features, largest
// first: the cap is the layer's feature count scaled by 0.9 × limit/size.
// If the last rendering is still over, it is served anyway, logged and
// counted in villageplan_tile_coarsened_total{outcome="still_over"}.
func (s *Service) render(ctx context.Context, ts *Tileset, a Address, f Filter, ls []*layers.Layer, base *statement) (*entry, error) {
	start := time.Now()
	var (
		raw  []byte
		gz   []byte
		snap map[string]Version
	)
	g := GeneralisationAt(a.Z)
	st := base
	for attempt := 0; ; attempt++ {
		var err error
		raw, snap, err = s.query(ctx, st, st.argValues(a, g, f))
		if err != nil {
			return nil, fmt.Errorf("render tile %s/%s: %w", ts.ID, a, err)
		}
		gz = nil
		if !surelyFits(len(raw), s.maxBytes) {
			gz = compress(raw)
		}
		if len(gz) <= s.maxBytes {
			if attempt > 0 {
				s.metrics.oversize.WithLabelValues(ts.ID, "fit").Inc()
			}
			break
		}
		if attempt == maxRetries {
			s.metrics.oversize.WithLabelValues(ts.ID, "still_over").Inc()
			s.logger.Error("tile over the size limit after reducing features; served as is",
				"tileset", ts.ID, "tile", a.String(), "bytes", len(gz), "limit", s.maxBytes)
			break
		}
		counts := featureCounts(raw)
		factor := 0.9 * float64(s.maxBytes) / float64(len(gz))
		caps := map[string]int{}
		for _, l := range ls {
			n := min(counts[l.ID], g.maxFeatures(l.ID))
			caps[l.ID] = max(1, int(float64(n)*factor))
		}
		s.logger.Info("tile over the size limit; rendering again with fewer features",
			"tileset", ts.ID, "tile", a.String(), "bytes", len(gz), "caps", caps)
		g.MaxFeatures = caps
		st = ts.statement(a.Z, true, f)
	}
	s.metrics.render.WithLabelValues(ts.ID, strconv.Itoa(a.Z)).Observe(time.Since(start).Seconds())
	s.view.observe(snap)
	vers := pick(snap, ls)
	key := cacheKey(ts, a, f, ls, vers)
	e := &entry{key: key, raw: len(raw), etag: makeETag(base.digest, key), deps: map[string]Version{}}
	for i, l := range ls {
		e.deps[l.ID] = vers[i]
	}
	if len(raw) > 0 {
		e.mvt, e.gz = raw, gz
	}
	if s.cache.enabled() {
		// The cache keeps its own entry with the gzip bytes only; this
		// request (and those sharing its flight) keep the raw MVT as well.
		c := &entry{key: e.key, raw: e.raw, etag: e.etag, deps: e.deps}
		if len(raw) > 0 {
			if e.gz == nil {
				e.gz = compress(raw)
			}
			c.gz = e.gz
		}
		s.cache.put(c)
	}
	if len(raw) > 0 && e.gz != nil {
		s.metrics.size.WithLabelValues(ts.ID).Observe(float64(len(e.gz)))
	}
	return e, nil
}

// surelyFits reports whether a raw MVT of n bytes is within limit once
// gzip-compressed, whatever its content: deflate's stored blocks add at
// most 5 bytes per 16 KiB and gzip 18 bytes of header and trailer.
func surelyFits(n, limit int) bool {
	return n+n/1024+64 <= limit
}

// query runs st on a pooled connection. When ctx ends first (client gone,
// timeout) the running statement is cancelled on the server with
// PostgreSQL cancel requests — repeated every 100 ms until the statement
// has returned, because a cancel that arrives between two protocol
// messages (after Parse, before Execute) is ignored by the server — and
// the connection is then discarded rather than returned to the pool, so
// that a late cancel cannot hit another statement.
func (s *Service) query(ctx context.Context, st *statement, args []any) ([]byte, map[string]Version, error) {
	conn, err := db.PoolFrom(ctx, s.pool).Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	returned := make(chan struct{})
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		for i := 0; i < 600; i++ {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = conn.Conn().PgConn().CancelRequest(cctx)
			cancel()
			select {
			case <-returned:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout+10*time.Second)
	defer cancel()
	var (
		mvt    []byte
		names  []string
		vs, ss []int64
	)
	err = conn.QueryRow(qctx, st.sql, args...).Scan(&mvt, &names, &vs, &ss)
	close(returned)
	if !stop() {
		<-fired
		_ = conn.Conn().Close(context.Background())
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	snap := make(map[string]Version, len(names))
	for i, n := range names {
		if i < len(vs) && i < len(ss) {
			snap[n] = Version{N: vs[i], Stamp: ss[i]}
		}
	}
	return mvt, snap, nil
}

// gzipWriters compress at BestSpeed with klauspost/compress: on parcel
// tiles (50 KB of MVT) 0.10 ms and 16.4 KB, where compress/gzip takes
// 0.85 ms for 14.4 KB at its default level — the difference between
// matching the database's tile rate and halving it. A tile is compressed
// at most once per rendering (see entry); hits are served from the stored
// bytes.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// compress gzips an MVT; an empty MVT stays empty. Writing to memory
// cannot fail.
func compress(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return buf.Bytes()
}

func pick(all map[string]Version, ls []*layers.Layer) []Version {
	out := make([]Version, len(ls))
	for i, l := range ls {
		out[i] = all[l.ID]
	}
	return out
}

// cacheKey identifies a tile rendering: tileset, address, filter and the
// version of every layer visible at the zoom.
func cacheKey(ts *Tileset, a Address, f Filter, ls []*layers.Layer, vers []Version) string {
	var b strings.Builder
	b.WriteString(ts.ID)
	b.WriteByte('/')
	b.WriteString(a.String())
	if fs := f.String(); fs != "" {
		b.WriteByte('?')
		b.WriteString(fs)
	}
	for i, l := range ls {
		fmt.Fprintf(&b, "|%s=%d.%d", l.ID, vers[i].N, vers[i].Stamp)
	}
	return b.String()
}

// makeETag returns a weak ETag over the statement digest and the cache key:
// weak because the gzip and identity encodings of a tile share it.
func makeETag(digest, key string) string {
	h := sha256.New()
	h.Write([]byte(digest))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// etagMatches implements the weak comparison of If-None-Match (RFC 9110
// §13.1.2): "*" or any listed tag equal to etag ignoring W/.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == want {
			return true
		}
	}
	return false
}
