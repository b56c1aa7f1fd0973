package tiles

import (
	"container/list"
	"sync"
)

// entry is a rendered tile as the cache keeps it.
type entry struct {
	key  string
	gzip []byte // gzip-compressed MVT; nil for an empty tile
	raw  int    // length of the uncompressed MVT in bytes
	etag string
	// deps are the layers the tile was read from and their versions at the
	// time of reading.
	deps map[string]Version
}

// size is the number of bytes the entry is charged in the cache: the
// compressed tile plus a fixed overhead for the key, ETag and bookkeeping.
func (e *entry) size() int64 {
	return int64(len(e.gzip) + len(e.key) + len(e.etag) + 64*len(e.deps) + 160)
}

// lru is an in-process tile cache bounded in bytes, evicting the least
// recently used tile first. It stores gzip-compressed tiles, so a hit costs
// no compression.
type lru struct {
	mu       sync.Mutex
	limit    int64
	bytes    int64
	order    *list.List // front = most recent; values *entry
	byKey    map[string]*list.Element
	onChange func(bytes int64, entries int)
}

func newLRU(limit int64) *lru {
	return &lru{limit: limit, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *lru) get(key string) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry), true
}

// put stores e, replacing an entry with the same key. An entry larger than
// an eighth of the limit is not stored, so one huge tile cannot flush the
// cache.
func (c *lru) put(e *entry) {
	if c.limit <= 0 || e.size() > c.limit/8 {
		return
	}
	c.mu.Lock()
	if el, ok := c.byKey[e.key]; ok {
		c.removeLocked(el)
	}
	c.byKey[e.key] = c.order.PushFront(e)
	c.bytes += e.size()
	for c.bytes > c.limit {
		c.removeLocked(c.order.Back())
	}
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *lru) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*entry)
	delete(c.byKey, e.key)
	c.bytes -= e.size()
}

// purge removes every entry that depends on a layer of changed at another
// version than the one given. Entries of unchanged layers stay.
func (c *lru) purge(changed map[string]Version) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*entry)
		for l, v := range changed {
			if dv, ok := e.deps[l]; ok && dv != v {
				c.removeLocked(el)
				n++
				break
			}
		}
		el = next
	}
	c.notifyLocked()
	return n
}

func (c *lru) notifyLocked() {
	if c.onChange != nil {
		c.onChange(c.bytes, len(c.byKey))
	}
}

// stats returns the bytes charged and the number of entries.
func (c *lru) stats() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, len(c.byKey)
}
