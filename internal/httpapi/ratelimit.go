package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"
)

// RateLimit is a per-client token bucket: Rate requests per second on
// average, bursts of Burst. A zero Rate turns the limit off.
type RateLimit struct {
	Rate  float64
	Burst int
}

// DefaultRateLimits are the per-client limits of the expensive and writing
// request classes: siting checks and desk previews (each a measuring
// statement over every layer), file downloads (each holds a database
// connection for its length) and any other POST/PUT/PATCH/DELETE.
var DefaultRateLimits = map[string]RateLimit{
	"siting":   {Rate: 5, Burst: 20},
	"download": {Rate: 0.5, Burst: 12},
	"write":    {Rate: 5, Burst: 20},
}

// rateClass is the rate-limit class of a request of the given request
// class (requestClass) and method, "" for the cheap reads that are not
// limited (pages, features, tiles: bounded by their deadline and cached).
func rateClass(class, method string) string {
	switch class {
	case "siting", "download":
		return class
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return "write"
	}
	return ""
}

// limiters holds one token bucket per client address and class; buckets
// idle for longer than idleAfter are dropped by a sweep every sweepEvery
// requests.
//
// With a database (pool set) the buckets are shared by every server
// process on it, in villageplan.rate_limit_buckets (migration 00023), so
// that a client behind a load balancer gets the same limit whichever
// process answers. The process's own bucket stays in front as a fast path:
// a request it refuses is refused without a database round trip (the client
// has used up its burst in this process alone, so it has in the shared
// bucket too, up to the few tokens the two buckets disagree by); a request
// it allows is then checked against the shared bucket with one UPSERT
// (about a quarter of a millisecond on a local database; only the
// rate-limited classes — writes, siting, downloads — pay it, never tiles or
// features). If the shared check fails (database unreachable, 200 ms
// timeout) the local verdict stands: the limiter fails open to the
// per-process limit, and the request meets the database error on its own.
type limiters struct {
	mu      sync.Mutex
	limits  map[string]RateLimit
	buckets map[string]*bucket
	calls   int

	pool   *pgxpool.Pool // nil: per-process buckets only
	logger *slog.Logger
}

// sharedBucketSQL takes one token of the GCRA bucket ($1 class, $2
// client) with emission interval $3 s (1/rate) and tolerance $4 s
// (burst/rate), at the database's clock, and returns whether it was
// allowed and, if not, the seconds until it would be.
const sharedBucketSQL = `
INSERT INTO villageplan.rate_limit_buckets AS b (class, client, tat, allowed)
VALUES ($1, $2, statement_timestamp() + make_interval(secs => $3), true)
ON CONFLICT (class, client) DO UPDATE SET
    allowed = greatest(b.tat, statement_timestamp()) + make_interval(secs => $3) - statement_timestamp() <= make_interval(secs => $4),
    tat = CASE WHEN greatest(b.tat, statement_timestamp()) + make_interval(secs => $3) - statement_timestamp() <= make_interval(secs => $4)
               THEN greatest(b.tat, statement_timestamp()) + make_interval(secs => $3)
               ELSE b.tat END
RETURNING allowed, greatest(0, extract(epoch FROM tat + make_interval(secs => $3) - make_interval(secs => $4) - statement_timestamp()))::float8`

// sharedCheckTimeout bounds the shared-bucket UPSERT.
const sharedCheckTimeout = 200 * time.Millisecond

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

const (
	idleAfter  = 10 * time.Minute
	sweepEvery = 4096
)

func newLimiters(limits map[string]RateLimit) *limiters {
	m := map[string]RateLimit{}
	for k, v := range DefaultRateLimits {
		m[k] = v
	}
	for k, v := range limits {
		m[k] = v
	}
	return &limiters{limits: m, buckets: map[string]*bucket{}}
}

// allow takes a token for client in class and, when none is left, says how
// long until one is.
func (ls *limiters) allow(ctx context.Context, class, client string, now time.Time) (bool, time.Duration) {
	ok, wait := ls.allowLocal(class, client, now)
	if !ok || ls.pool == nil {
		return ok, wait
	}
	lim, limited := ls.limits[class]
	if !limited || lim.Rate <= 0 {
		return true, 0
	}
	ls.mu.Lock()
	sweep := ls.calls%sweepEvery == 0
	ls.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCheckTimeout)
	defer cancel()
	if sweep {
		if _, err := ls.pool.Exec(ctx, `DELETE FROM villageplan.rate_limit_buckets WHERE tat < statement_timestamp() - make_interval(secs => $1)`, idleAfter.Seconds()); err != nil {
			ls.logger.Warn("rate limit: sweeping idle shared buckets", "err", err)
		}
	}
	interval := 1 / lim.Rate
	var (
		allowed bool
		secs    float64
	)
	err := ls.pool.QueryRow(ctx, sharedBucketSQL, class, client, interval, float64(max(lim.Burst, 1))*interval).Scan(&allowed, &secs)
	if err != nil {
		ls.logger.Warn("rate limit: shared bucket unavailable, using this process's bucket", "class", class, "err", err)
		return true, 0
	}
	if !allowed {
		return false, time.Duration(secs * float64(time.Second))
	}
	return true, 0
}

// allowLocal is the per-process bucket.
func (ls *limiters) allowLocal(class, client string, now time.Time) (bool, time.Duration) {
	lim, ok := ls.limits[class]
	if !ok || lim.Rate <= 0 {
		return true, 0
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.calls++
	if ls.calls%sweepEvery == 0 {
		for k, b := range ls.buckets {
			if now.Sub(b.seen) > idleAfter {
				delete(ls.buckets, k)
			}
		}
	}
	key := class + "|" + client
	b := ls.buckets[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(rate.Limit(lim.Rate), max(lim.Burst, 1))}
		ls.buckets[key] = b
	}
	b.seen = now
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientAddress is the address a request is counted against: the peer,
// or — behind a trusted proxy — the last address that proxy appended to
// X-Forwarded-For.
func (s *Server) clientAddress(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	if s.fromTrustedProxy(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.Unmap().String()
			}
		}
	}
	return ap.Addr().Unmap().String()
}

// rateLimited answers 429 with Retry-After (whole seconds, at least 1) and
// a JSON body, and reports true, when the client has used up its bucket of
// the rate-limit class ("" is never limited).
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, class string) bool {
	if class == "" {
		return false
	}
	ok, wait := s.limiters.allow(r.Context(), class, s.clientAddress(r), time.Now())
	if ok {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	lim := s.limiters.limits[class]
	WriteError(w, http.StatusTooManyRequests, "TooManyRequests",
		fmt.Sprintf("请求过于频繁（%s 类每个客户端每秒 %g 次，突发 %d 次），请 %d 秒后重试。 Too many %s requests from this client (%g per second, bursts of %d); retry in %d s.",
			class, lim.Rate, lim.Burst, secs, class, lim.Rate, lim.Burst, secs))
	return true
}
