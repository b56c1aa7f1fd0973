package tiles

import (
	"context"
	"sync"
	"time"
)

// flightGroup merges concurrent renderings of the same tile into one.
//
// Unlike golang.org/x/sync/singleflight it counts the callers waiting for a
// rendering: the rendering runs in its own context, which is cancelled
// when the last waiting caller has gone (client disconnected) or after
// timeout. So an abandoned tile stops its database query, but one client
// going away does not fail the others waiting for the same tile.
type flightGroup struct {
	timeout time.Duration
	mu      sync.Mutex
	calls   map[string]*call
}

type call struct {
	done    chan struct{}
	res     *entry
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns the result of fn for key, running fn at most once at a time
// per key. shared reports whether the result came from another caller's
// call.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context) (*entry, error)) (res *entry, shared bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call{}
	}
	c, ok := g.calls[key]
	if !ok {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		c = &call{done: make(chan struct{}), cancel: cancel}
		g.calls[key] = c
		go func() {
			c.res, c.err = fn(cctx)
			cancel()
			g.mu.Lock()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
			g.mu.Unlock()
			close(c.done)
		}()
	}
	c.waiters++
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.res, ok, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return nil, ok, ctx.Err()
	}
}
