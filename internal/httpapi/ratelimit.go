package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

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
type limiters struct {
	mu      sync.Mutex
	limits  map[string]RateLimit
	buckets map[string]*bucket
	calls   int
}

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
func (ls *limiters) allow(class, client string, now time.Time) (bool, time.Duration) {
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
	ok, wait := s.limiters.allow(class, s.clientAddress(r), time.Now())
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
