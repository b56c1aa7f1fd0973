package tiles

import (
	"bytes"
	"container/list"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// entry is a rendered tile, as a request gets it and as the cache keeps
// it. It holds the MVT in the encodings clients have asked for: each is
// made at most once per entry, from the other, when first needed, so no
// request compresses or decompresses a tile another request already did.
//
//   - A freshly rendered tile has the raw MVT (ST_AsMVT's bytes); it is
//     compressed only when a client accepting gzip asks for it (or when
//     its size must be checked against the limit, or when it is cached).
//   - A cached tile holds the gzip bytes only (a third of the memory):
//     hits from browsers, which all accept gzip, cost no work; the raw MVT
//     is decompressed once, on the first hit of a client without gzip,
//     and kept (and charged) beside it.
type entry struct {
	key  string
	raw  int // length of the uncompressed MVT in bytes; 0 for an empty tile
	etag string
	// deps are the layers the tile was read from and their versions at the
	// time of reading.
	deps map[string]Version

	mu  sync.Mutex
	gz  []byte // gzip-compressed MVT; nil until made (always nil when empty)
	mvt []byte // raw MVT; nil until made (always nil when empty)
	// in is the cache holding the entry (nil if none); charged is what it
	// is charged there. Both are guarded by in.mu once stored.
	in      *lru
	charged int64
}

// gzipBytes returns the gzip-compressed MVT, compressing it on first use.
func (e *entry) gzipBytes() []byte {
	if e.raw == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gz == nil {
		e.gz = compress(e.mvt)
		if e.in != nil {
			e.in.grow(e, int64(len(e.gz)))
		}
	}
	return e.gz
}

// rawBytes returns the uncompressed MVT, decompressing it on first use.
func (e *entry) rawBytes() ([]byte, error) {
	if e.raw == 0 {
		return nil, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mvt == nil {
		zr, err := gzip.NewReader(bytes.NewReader(e.gz))
		if err != nil {
			return nil, err
		}
		raw := make([]byte, 0, e.raw)
		buf := bytes.NewBuffer(raw)
		if _, err := io.Copy(buf, zr); err != nil {
			return nil, err
		}
		e.mvt = buf.Bytes()
		if e.in != nil {
			e.in.grow(e, int64(len(e.mvt)))
		}
	}
	return e.mvt, nil
}

// size is the number of bytes the entry is charged in the cache: the
// encodings it holds plus a fixed overhead for the key, ETag and
// bookkeeping. The caller holds e.mu.
func (e *entry) size() int64 {
	return int64(len(e.gz) + len(e.mvt) + len(e.key) + len(e.etag) + 64*len(e.deps) + 160)
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
	e.mu.Lock()
	defer e.mu.Unlock()
	size := e.size()
	if c.limit <= 0 || size > c.limit/8 || e.in != nil {
		return
	}
	c.mu.Lock()
	if el, ok := c.byKey[e.key]; ok {
		c.removeLocked(el)
	}
	e.in, e.charged = c, size
	c.byKey[e.key] = c.order.PushFront(e)
	c.bytes += size
	c.evictLocked()
	c.notifyLocked()
	c.mu.Unlock()
}

// enabled reports whether the cache stores anything.
func (c *lru) enabled() bool { return c.limit > 0 }

// grow charges n more bytes to e (an encoding made after it was stored),
// if e is still in the cache. The caller holds e.mu.
func (c *lru) grow(e *entry, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; !ok || el.Value.(*entry) != e {
		return
	}
	e.charged += n
	c.bytes += n
	c.evictLocked()
	c.notifyLocked()
}

func (c *lru) evictLocked() {
	for c.bytes > c.limit && c.order.Len() > 0 {
		c.removeLocked(c.order.Back())
	}
}

func (c *lru) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*entry)
	delete(c.byKey, e.key)
	c.bytes -= e.charged
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
