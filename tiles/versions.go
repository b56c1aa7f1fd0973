package tiles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"villageplan/layers"
)

// ChangeChannel is the NOTIFY channel on which the layer-table triggers
// announce a committed change; the payload is the layer ID.
const ChangeChannel = "villageplan_layer_changed"

// Version identifies the state of one layer's data: the counter of
// villageplan.layer_version (bumped by every INSERT/UPDATE/DELETE statement
// on the layer table) and the time of the last bump in microseconds since
// 1970, which tells apart two databases whose counters happen to be equal.
type Version struct {
	N     int64
	Stamp int64
}

// newer reports whether v describes a later state than w.
func (v Version) newer(w Version) bool {
	if v.Stamp != w.Stamp {
		return v.Stamp > w.Stamp
	}
	return v.N > w.N
}

// versionView is the process's picture of every layer's Version.
//
// It is authoritative ("live") only while the listener connection is
// LISTENing on ChangeChannel and has read layer_version after it started
// listening: then every later commit reaches it as a notification. While it
// is not live (start-up, listener connection lost, reconnecting) callers
// must read the versions from the database for each request; a tile cached
// under an older version is then never served.
//
// A layer named by a notification is "dirty" from the moment the
// notification arrives until a read of layer_version that started after it
// has been merged: requests for its tiles read the versions from the
// database meanwhile, so the window in which a cached tile can be served
// after a commit is only the delivery time of the notification.
type versionView struct {
	mu       sync.RWMutex
	byLayer  map[string]Version
	dirty    map[string]uint64 // layer → generation of its last notification
	gen      uint64
	live     bool
	onChange func(changed map[string]Version)
}

func newVersionView() *versionView {
	return &versionView{byLayer: map[string]Version{}, dirty: map[string]uint64{}}
}

// get returns the versions of ls (in order) and whether they can be used
// without reading the database: the view is live and no layer of ls has a
// notification not yet merged.
func (vv *versionView) get(ls []*layers.Layer) ([]Version, bool) {
	vv.mu.RLock()
	defer vv.mu.RUnlock()
	out := make([]Version, len(ls))
	ok := vv.live
	for i, l := range ls {
		out[i] = vv.byLayer[l.ID]
		if _, d := vv.dirty[l.ID]; d {
			ok = false
		}
	}
	return out, ok
}

// markDirty records a notification for layer and returns the generation
// to pass to clean after the next read of layer_version.
func (vv *versionView) markDirty(layer string) {
	vv.mu.Lock()
	vv.gen++
	vv.dirty[layer] = vv.gen
	vv.mu.Unlock()
}

// generation returns the current notification generation.
func (vv *versionView) generation() uint64 {
	vv.mu.RLock()
	defer vv.mu.RUnlock()
	return vv.gen
}

// clean forgets the notifications up to generation upTo, whose commits a
// completed read of layer_version has seen.
func (vv *versionView) clean(upTo uint64) {
	vv.mu.Lock()
	for l, g := range vv.dirty {
		if g <= upTo {
			delete(vv.dirty, l)
		}
	}
	vv.mu.Unlock()
}

func (vv *versionView) isLive() bool {
	vv.mu.RLock()
	defer vv.mu.RUnlock()
	return vv.live
}

func (vv *versionView) setLive(live bool) {
	vv.mu.Lock()
	vv.live = live
	vv.mu.Unlock()
}

// observe merges versions read from the database; only newer versions are
// taken, so a slow reader cannot move the view backwards. It calls
// onChange with the layers that moved.
func (vv *versionView) observe(seen map[string]Version) {
	changed := map[string]Version{}
	vv.mu.Lock()
	for l, v := range seen {
		if cur, ok := vv.byLayer[l]; !ok || v.newer(cur) {
			vv.byLayer[l] = v
			if ok {
				changed[l] = v
			}
		}
	}
	cb := vv.onChange
	vv.mu.Unlock()
	if len(changed) > 0 && cb != nil {
		cb(changed)
	}
}

// versionsSQL reads every layer's version.
var versionsSQL = `SELECT layer, version, (extract(epoch FROM updated_at) * 1000000)::bigint FROM ` +
	layers.QuoteIdent(layers.Schema) + `.layer_version`

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readVersions reads layer_version.
func readVersions(ctx context.Context, q querier) (map[string]Version, error) {
	rows, err := q.Query(ctx, versionsSQL)
	if err != nil {
		return nil, fmt.Errorf("read layer versions: %w", err)
	}
	out := map[string]Version{}
	var (
		l string
		v Version
	)
	_, err = pgx.ForEachRow(rows, []any{&l, &v.N, &v.Stamp}, func() error {
		out[l] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read layer versions: %w", err)
	}
	return out, nil
}

// listener keeps a versionView live with LISTEN/NOTIFY on a dedicated
// connection taken out of the pool.
type listener struct {
	pool      *pgxpool.Pool
	view      *versionView
	logger    *slog.Logger
	heartbeat time.Duration
	up        func(bool)
}

// run listens until ctx ends or the pool is closed, reconnecting with
// back-off after any failure. The view is marked not live before the
// connection is (re)established and becomes live only after LISTEN and a
// full read of layer_version, in that order, so no commit can fall in
// between: a commit before the read is in the read, one after it is
// notified.
func (ln *listener) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	failures := 0
	for {
		start := time.Now()
		err := ln.session(ctx)
		ln.view.setLive(false)
		ln.up(false)
		if ctx.Err() != nil || errors.Is(err, puddle.ErrClosedPool) || ln.poolClosed(ctx) {
			return
		}
		if time.Since(start) > time.Minute {
			backoff, failures = 100*time.Millisecond, 0
		}
		failures++
		lvl := slog.LevelWarn
		if failures > 3 {
			lvl = slog.LevelDebug
		}
		ln.logger.Log(ctx, lvl, "tile cache: layer-change listener lost; tiles are validated against layer_version on every request until it is back",
			"err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		// At most a second apart: one failed connection attempt a second
		// costs nothing, and the listener is back within about a second
		// of the database (tiles are right meanwhile, just validated
		// against layer_version per request).
		backoff = min(2*backoff, time.Second)
	}
}

// poolClosed reports whether the pool has been closed (its owner is
// shutting down), in which case the listener ends quietly.
func (ln *listener) poolClosed(ctx context.Context) bool {
	actx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := ln.pool.Acquire(actx)
	if err != nil {
		return errors.Is(err, puddle.ErrClosedPool)
	}
	c.Release()
	return false
}

func (ln *listener) session(ctx context.Context) error {
	pc, err := ln.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET application_name = 'villageplan-tiles-listener'"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return err
	}
	if err := ln.sync(ctx, conn); err != nil {
		return err
	}
	ln.view.setLive(true)
	ln.up(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, ln.heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			// A notification: its layer is dirty at once. Others may be
			// buffered behind it: take them all, then read every version
			// once; the read sees every commit notified so far.
			// Notifications that arrive during the read stay buffered and
			// cause one more read.
			ln.view.markDirty(n.Payload)
			drained, stop := context.WithCancel(ctx)
			stop()
			for {
				m, err := conn.WaitForNotification(drained)
				if err != nil {
					break
				}
				ln.view.markDirty(m.Payload)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Heartbeat: proves the connection still works (a half-open TCP
			// connection delivers no notifications and no error) and
			// catches up with anything missed, within one heartbeat.
		default:
			return err
		}
		if err := ln.sync(ctx, conn); err != nil {
			return err
		}
	}
}

// sync reads layer_version and merges it, then forgets the notifications
// received before the read began.
func (ln *listener) sync(ctx context.Context, conn *pgx.Conn) error {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	gen := ln.view.generation()
	vs, err := readVersions(sctx, conn)
	if err != nil {
		return err
	}
	ln.view.observe(vs)
	ln.view.clean(gen)
	return nil
}

// Versions returns every layer's current version by layer id: from the
// live view (no database query) while the change listener is up and no
// notification awaits its read, else read from layer_version now. A tile
// rendered after a change of a layer carries a different ETag, so a page
// that sees a layer's version move reloads its tiles (the web map polls
// GET /map/versions.json).
func (s *Service) Versions(ctx context.Context) (map[string]Version, error) {
	if s.pool == nil {
		return nil, ErrNoDatabase
	}
	all := s.catalog.Layers()
	if vs, ok := s.view.get(all); ok {
		out := make(map[string]Version, len(all))
		for i, l := range all {
			out[l.ID] = vs[i]
		}
		return out, nil
	}
	vs, err := readVersions(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	s.view.observe(vs)
	return vs, nil
}
