package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// ReplicaOptions configure a ReplicaSet.
type ReplicaOptions struct {
	// MaxLag is the replay lag (now() − pg_last_xact_replay_timestamp()
	// on the standby, seconds) beyond which a replica leaves the rotation;
	// 0: 10 s.
	MaxLag time.Duration
	// Interval is how often each replica is checked; 0: 1 s.
	Interval time.Duration
	// Interactive and Download are the session limits of the replica's
	// two pools (the same as the primary's classes); DownloadConns bounds
	// the download pool's connections (0: pgx default).
	Interactive, Download SessionLimits
	DownloadConns         int32
}

// Replica is one read-only streaming standby: its pools and the state the
// checker last saw.
type Replica struct {
	// Name is "replica-N" (1-based, in the order given), used in the
	// metrics, /readyz and the X-Served-By header.
	Name string
	// Pool serves interactive reads; Download file downloads.
	Pool, Download *pgxpool.Pool

	mu          sync.Mutex
	up          bool
	lagSeconds  float64
	replayLSN   uint64
	bytesBehind int64
	lastErr     string
	checkedAt   time.Time
}

// ReplicaState is what /readyz shows of one replica.
type ReplicaState struct {
	Name        string  `json:"name"`
	Up          bool    `json:"up"`
	LagSeconds  float64 `json:"lag_seconds"`
	BytesBehind int64   `json:"bytes_behind"`
	ReplayLSN   string  `json:"replay_lsn,omitempty"`
	Error       string  `json:"error,omitempty"`
	CheckedAt   string  `json:"checked_at,omitempty"`
}

// ReplicaSet routes reads to healthy streaming standbys of the primary
// (round robin). A replica is healthy when it answers, is in recovery and
// its replay lag is at most MaxLag; the checker takes it out of the
// rotation otherwise and puts it back by itself when it is healthy again.
type ReplicaSet struct {
	primary  *pgxpool.Pool
	replicas []*Replica
	opts     ReplicaOptions
	next     atomic.Uint32
	stop     context.CancelFunc
	done     chan struct{}
	lag, up  *prometheus.GaugeVec
}

// NewReplicaSet opens (lazily) two pools per replica URL and starts the
// checker; primary is where pg_current_wal_lsn() is read. Close stops it.
func NewReplicaSet(primary *pgxpool.Pool, urls []string, o ReplicaOptions) (*ReplicaSet, error) {
	if o.MaxLag <= 0 {
		o.MaxLag = 10 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	rs := &ReplicaSet{primary: primary, opts: o, done: make(chan struct{}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "villageplan_replica_lag_seconds",
			Help: "Replay lag of each read replica (now() - pg_last_xact_replay_timestamp()), seconds; 0 when idle and caught up.",
		}, []string{"replica"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "villageplan_replica_up",
			Help: "1 when the read replica is in the rotation (answers, in recovery, lag within --replica-max-lag), else 0.",
		}, []string{"replica"}),
	}
	for i, u := range urls {
		name := fmt.Sprintf("replica-%d", i+1)
		mk := func(lim SessionLimits, maxConns int32) (*pgxpool.Pool, error) {
			cfg, err := pgxpool.ParseConfig(u)
			if err != nil {
				return nil, fmt.Errorf("read replica %s: %w", name, err)
			}
			if maxConns > 0 {
				cfg.MaxConns = maxConns
			}
			lim.Apply(cfg)
			return pgxpool.NewWithConfig(context.Background(), cfg)
		}
		p, err := mk(o.Interactive, 0)
		if err != nil {
			rs.closePools()
			return nil, err
		}
		d, err := mk(o.Download, o.DownloadConns)
		if err != nil {
			p.Close()
			rs.closePools()
			return nil, err
		}
		rs.replicas = append(rs.replicas, &Replica{Name: name, Pool: p, Download: d})
		rs.lag.WithLabelValues(name).Set(0)
		rs.up.WithLabelValues(name).Set(0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs.stop = cancel
	rs.CheckNow(ctx)
	go rs.run(ctx)
	return rs, nil
}

// Collectors are the replica gauges, to register with the server's registry.
func (rs *ReplicaSet) Collectors() []prometheus.Collector {
	return []prometheus.Collector{rs.lag, rs.up}
}

func (rs *ReplicaSet) closePools() {
	for _, r := range rs.replicas {
		r.Pool.Close()
		r.Download.Close()
	}
}

// Close stops the checker and closes the replicas' pools.
func (rs *ReplicaSet) Close() {
	rs.stop()
	<-rs.done
	rs.closePools()
}

func (rs *ReplicaSet) run(ctx context.Context) {
	defer close(rs.done)
	t := time.NewTicker(rs.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rs.CheckNow(ctx)
		}
	}
}

// CheckNow checks every replica once (the checker does it every Interval).
func (rs *ReplicaSet) CheckNow(ctx context.Context) {
	var primaryLSN uint64
	if rs.primary != nil {
		if l, err := rs.CurrentLSN(ctx); err == nil {
			primaryLSN = l
		}
	}
	var wg sync.WaitGroup
	for _, r := range rs.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs.check(ctx, r, primaryLSN)
		}()
	}
	wg.Wait()
}

func (rs *ReplicaSet) check(ctx context.Context, r *Replica, primaryLSN uint64) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		inRecovery bool
		replay     string
		lag        float64
	)
	// Lag is 0 when the standby has replayed everything it received and
	// nothing is pending: an idle primary writes no transactions, so
	// now() − last replay timestamp would grow without any delay.
	err := r.Pool.QueryRow(cctx, `SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''),
		CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
		     ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8`).
		Scan(&inRecovery, &replay, &lag)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkedAt = time.Now()
	switch {
	case err != nil:
		r.up, r.lastErr = false, err.Error()
	case !inRecovery:
		r.up, r.lastErr = false, "not in recovery (a primary, not a standby)"
	default:
		r.replayLSN, _ = ParseLSN(replay)
		r.lagSeconds = lag
		r.bytesBehind = 0
		if primaryLSN > r.replayLSN {
			r.bytesBehind = int64(primaryLSN - r.replayLSN)
		}
		r.lastErr = ""
		r.up = lag <= rs.opts.MaxLag.Seconds()
		if !r.up {
			r.lastErr = fmt.Sprintf("replay lag %.1f s over the bound %s", lag, rs.opts.MaxLag)
		}
	}
	rs.lag.WithLabelValues(r.Name).Set(r.lagSeconds)
	if r.up {
		rs.up.WithLabelValues(r.Name).Set(1)
	} else {
		rs.up.WithLabelValues(r.Name).Set(0)
	}
}

// Pick returns the next healthy replica (round robin) whose last seen
// replay LSN is at least minLSN (0: any), or nil: read from the primary.
func (rs *ReplicaSet) Pick(minLSN uint64) *Replica {
	n := len(rs.replicas)
	start := int(rs.next.Add(1))
	for i := 0; i < n; i++ {
		r := rs.replicas[(start+i)%n]
		r.mu.Lock()
		ok := r.up && r.replayLSN >= minLSN
		r.mu.Unlock()
		if ok {
			return r
		}
	}
	return nil
}

// CurrentLSN is the primary's pg_current_wal_lsn() (read-your-writes: a
// principal's reads go to a replica only once it has replayed this).
func (rs *ReplicaSet) CurrentLSN(ctx context.Context) (uint64, error) {
	var s string
	if err := rs.primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&s); err != nil {
		return 0, err
	}
	return ParseLSN(s)
}

// States lists each replica's state as the checker last saw it.
func (rs *ReplicaSet) States() []ReplicaState {
	out := make([]ReplicaState, 0, len(rs.replicas))
	for _, r := range rs.replicas {
		r.mu.Lock()
		st := ReplicaState{Name: r.Name, Up: r.up, LagSeconds: r.lagSeconds, BytesBehind: r.bytesBehind, Error: r.lastErr}
		if r.replayLSN > 0 {
			st.ReplayLSN = FormatLSN(r.replayLSN)
		}
		if !r.checkedAt.IsZero() {
			st.CheckedAt = r.checkedAt.UTC().Format(time.RFC3339)
		}
		r.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// ParseLSN parses PostgreSQL's textual pg_lsn ("16/B374D848").
func ParseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("pg_lsn %q: want HI/LO hexadecimal", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("pg_lsn %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("pg_lsn %q: %w", s, err)
	}
	return h<<32 | l, nil
}

// FormatLSN is the inverse of ParseLSN.
func FormatLSN(v uint64) string { return fmt.Sprintf("%X/%X", v>>32, v&0xffffffff) }

type replicaKey struct{}

// WithReplica returns ctx carrying r: PoolFrom and DownloadPoolFrom then
// answer r's pools instead of the caller's default (the primary's).
func WithReplica(ctx context.Context, r *Replica) context.Context {
	return context.WithValue(ctx, replicaKey{}, r)
}

// ReplicaFrom is the replica ctx carries, or nil.
func ReplicaFrom(ctx context.Context) *Replica {
	r, _ := ctx.Value(replicaKey{}).(*Replica)
	return r
}

// PoolFrom is the interactive pool of the replica ctx carries, else def.
// Services that read (features, tiles) call it per query; with no
// replica configured it is one context lookup.
func PoolFrom(ctx context.Context, def *pgxpool.Pool) *pgxpool.Pool {
	if r := ReplicaFrom(ctx); r != nil {
		return r.Pool
	}
	return def
}

// DownloadPoolFrom is the download pool of the replica ctx carries, else def.
func DownloadPoolFrom(ctx context.Context, def *pgxpool.Pool) *pgxpool.Pool {
	if r := ReplicaFrom(ctx); r != nil {
		return r.Download
	}
	return def
}

// Replicas are the set's replicas in the order given.
func (rs *ReplicaSet) Replicas() []*Replica { return rs.replicas }
