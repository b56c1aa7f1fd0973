package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/db"
)

// lsnCookie carries the primary's WAL position (pg_lsn text) after the
// client's last successful write. It is a routing hint, not a secret: a
// forged value only sends the client's reads to the primary (too high) or
// loses its read-your-writes (too low, its own loss).
const lsnCookie = "vp_lsn"

// replicaReads are the route templates whose GET/HEAD requests may be
// served by a read replica: feature pages, single features, downloads
// (items?f=…) and vector tiles. Everything else — writes, accounts, the
// desk, history — reads the primary.
var replicaReads = map[string]bool{
	"/collections/{collectionId}/items":             true,
	"/collections/{collectionId}/items/{featureId}": true,
	"/tiles/{tileset}/{z}/{x}/{y}.mvt":              true,
}

// routeReplicas chooses the database of a request when Options.Replicas is
// set: a replica-routable read goes to a healthy replica that has replayed
// the principal's last write (vp_lsn cookie, or the in-memory position of
// its user), else to the primary; X-Served-By names which. A write that
// answers 2xx records the primary's pg_current_wal_lsn() for the principal
// (cookie and memory).
func (s *Server) routeReplicas(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			tpl := ""
			if rt := mux.CurrentRoute(r); rt != nil {
				tpl, _ = rt.GetPathTemplate()
			}
			if !replicaReads[tpl] {
				break
			}
			var min uint64
			if c, err := r.Cookie(lsnCookie); err == nil {
				min, _ = db.ParseLSN(c.Value)
			}
			if p := auth.FromContext(r.Context()); p != nil {
				s.writtenMu.Lock()
				min = max(min, s.written[p.Username])
				s.writtenMu.Unlock()
			}
			if rep := s.opts.Replicas.Pick(min); rep != nil {
				w.Header().Set("X-Served-By", rep.Name)
				r = r.WithContext(db.WithReplica(r.Context(), rep))
			} else {
				w.Header().Set("X-Served-By", "primary")
			}
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			w = &lsnWriter{ResponseWriter: w, s: s, r: r}
		}
		next.ServeHTTP(w, r)
	})
}

// lsnWriter sets the vp_lsn cookie when a write answers 2xx (its
// transaction has committed by then).
type lsnWriter struct {
	http.ResponseWriter
	s    *Server
	r    *http.Request
	done bool
}

func (lw *lsnWriter) WriteHeader(code int) {
	if !lw.done {
		lw.done = true
		if code >= 200 && code < 300 {
			lw.record()
		}
	}
	lw.ResponseWriter.WriteHeader(code)
}

func (lw *lsnWriter) Write(b []byte) (int, error) {
	if !lw.done {
		lw.WriteHeader(http.StatusOK)
	}
	return lw.ResponseWriter.Write(b)
}

func (lw *lsnWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }

func (lw *lsnWriter) record() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lsn, err := lw.s.opts.Replicas.CurrentLSN(ctx)
	if err != nil {
		// Unknown position: send the principal's reads to the primary for a while.
		lw.s.logger.Warn("read-your-writes: primary WAL position", "err", err)
		lsn = ^uint64(0) >> 1
	}
	if p := auth.FromContext(lw.r.Context()); p != nil {
		lw.s.writtenMu.Lock()
		if lw.s.written == nil {
			lw.s.written = map[string]uint64{}
		}
		lw.s.written[p.Username] = max(lw.s.written[p.Username], lsn)
		lw.s.writtenMu.Unlock()
	}
	http.SetCookie(lw.ResponseWriter, &http.Cookie{Name: lsnCookie, Value: db.FormatLSN(lsn), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 300})
}

// NewReplicaSet opens the read replicas at urls (connection URLs of
// streaming standbys of primary) with the sessions of each request class
// bounded like the primary's (lim, defaults filled in); maxLag 0 is 10 s.
func NewReplicaSet(primary *pgxpool.Pool, urls []string, maxLag time.Duration, lim Limits) (*db.ReplicaSet, error) {
	lim = lim.withDefaults()
	return db.NewReplicaSet(primary, urls, db.ReplicaOptions{
		MaxLag:        maxLag,
		Interactive:   db.SessionLimits{Statement: lim.Interactive, IdleInTransaction: lim.Interactive},
		Download:      db.SessionLimits{Statement: lim.Download, IdleInTransaction: lim.Download},
		DownloadConns: int32(lim.DownloadSlots),
	})
}
