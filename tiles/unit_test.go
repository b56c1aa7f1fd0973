package tiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"villageplan/layers"
)

func TestParseAddress(t *testing.T) {
	ok := []struct {
		z, x, y string
		want    Address
	}{
		{"0", "0", "0", Address{0, 0, 0}},
		{"14", "13915", "5982", Address{14, 13915, 5982}},
		{"22", "4194303", "4194303", Address{22, 4194303, 4194303}},
		{"3", "07", "0", Address{3, 7, 0}},
	}
	for _, c := range ok {
		got, err := ParseAddress(c.z, c.x, c.y)
		if err != nil || got != c.want {
			t.Errorf("ParseAddress(%s/%s/%s) = %v, %v; want %v", c.z, c.x, c.y, got, err, c.want)
		}
	}
	bad := [][3]string{
		{"1", "2", "0"},            // x ≥ 2^z
		{"1", "0", "2"},            // y ≥ 2^z
		{"0", "1", "0"},            // only 0/0/0 at z0
		{"23", "0", "0"},           // above MaxZoom
		{"-1", "0", "0"},           // negative
		{"3", "-1", "0"},           // negative
		{"3", "1", "-0"},           // sign
		{"3", "+1", "0"},           // sign
		{"a", "0", "0"},            // non-numeric
		{"3", "0x1", "0"},          // hexadecimal
		{"3", "1.0", "0"},          // fraction
		{"3", "", "0"},             // empty
		{"3", " 1", "0"},           // space
		{"22", "99999999999", "0"}, // overflow
		{"22", "4194304", "0"},     // 2^22
		{"2", "१", "0"},            // non-ASCII digit
		{"100000000000000", "0", "0"},
	}
	for _, c := range bad {
		_, err := ParseAddress(c[0], c[1], c[2])
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Errorf("ParseAddress(%q) = %v, want *AddressError", c, err)
		}
	}
}

// TestStatements checks the SQL built from the catalog for every tileset
// and zoom: identifiers only from the catalog, no personal field, fields
// only from their TileMinZoom, every parameter referenced, and statements
// shared across zoom bands; the same for the as-of statements.
func TestStatements(t *testing.T) {
	cat := layers.Default()
	s := New(Options{Catalog: cat})
	distinct := map[string]bool{}
	for _, ts := range s.Tilesets() {
		for z := 0; z <= MaxZoom; z++ {
			for _, v := range []struct {
				gen  bool
				asOf time.Time
			}{{false, time.Time{}}, {true, time.Time{}}, {false, time.Unix(1e9, 0)}, {true, time.Unix(1e9, 0)}} {
				gen := v.gen
				st := ts.statement(z, gen, Filter{}.AsOf(v.asOf))
				if v.asOf.IsZero() {
					distinct[st.sql] = true
				} else if len(st.layers) > 0 && !strings.Contains(st.sql, "feature_versions") {
					t.Errorf("%s z%d: as-of statement does not read feature_versions", ts.ID, z)
				}
				if len(st.layers) == 0 {
					continue
				}
				for _, l := range cat.Layers() {
					visible := false
					for _, sl := range st.layers {
						visible = visible || sl == l
					}
					if strings.Contains(st.sql, "'"+l.ID+"'") != visible {
						t.Errorf("%s z%d: layer %s in SQL = %v, visible = %v", ts.ID, z, l.ID, !visible, visible)
					}
					if !visible {
						continue
					}
					for _, f := range l.Fields {
						in := strings.Contains(st.sql, `t.`+layers.QuoteIdent(f.Name))
						want := !f.Personal && f.TileMinZoom >= 0 && z >= f.TileMinZoom
						if f.Personal && in {
							t.Errorf("%s z%d: personal field %s.%s in tile SQL", ts.ID, z, l.ID, f.Name)
						}
						// The same column name may belong to another layer of
						// the map tileset; only single-layer tilesets are exact.
						if len(ts.Layers) == 1 && in != want {
							t.Errorf("%s z%d: field %s in SQL = %v, want %v", ts.ID, z, f.Name, in, want)
						}
					}
				}
				// $1 … $n all referenced, no gap.
				refs := regexp.MustCompile(`\$(\d+)::`).FindAllStringSubmatch(st.sql, -1)
				seen := map[string]bool{}
				for _, r := range refs {
					seen[r[1]] = true
				}
				for i := 1; i <= len(st.args); i++ {
					if !seen[fmt.Sprint(i)] {
						t.Errorf("%s z%d: $%d declared but not used", ts.ID, z, i)
					}
				}
				if len(seen) != len(st.args) {
					t.Errorf("%s z%d: %d parameters used, %d declared", ts.ID, z, len(seen), len(st.args))
				}
			}
		}
	}
	// Zoom bands: 12 tilesets × 23 zooms × 2 variants share far fewer
	// statements.
	if len(distinct) > 12*23 {
		t.Errorf("%d distinct statements: zoom bands are not shared", len(distinct))
	}
	t.Logf("%d distinct statements", len(distinct))
}

func TestTileFieldsFromTileMinZoom(t *testing.T) {
	l := &layers.Layer{ID: "x", Table: "x", Geometry: layers.Point, MinZoom: 10, MaxZoom: 22, Fields: []layers.Field{
		{Name: "a", TitleZH: "甲", TitleEN: "a", Type: layers.Text},
		{Name: "b", TitleZH: "乙", TitleEN: "b", Type: layers.Text, TileMinZoom: 15},
		{Name: "c", TitleZH: "丙", TitleEN: "c", Type: layers.Text, TileMinZoom: -1},
		{Name: "d", TitleZH: "丁", TitleEN: "d", Type: layers.Text, Personal: true},
	}}
	names := func(z int) string {
		var out []string
		for _, f := range tileFields(l, z) {
			out = append(out, f.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(14); got != "a" {
		t.Errorf("z14 fields = %s, want a", got)
	}
	if got := names(15); got != "a,b" {
		t.Errorf("z15 fields = %s, want a,b", got)
	}
}

func TestETagMatches(t *testing.T) {
	etag := `W/"abc"`
	for h, want := range map[string]bool{
		``: false, `*`: true, `"abc"`: true, `W/"abc"`: true, `"x", W/"abc"`: true, `"abcd"`: false, `"x"`: false,
	} {
		if got := etagMatches(h, etag); got != want {
			t.Errorf("etagMatches(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestLRU(t *testing.T) {
	mk := func(k string, n int, deps map[string]Version) *entry {
		return &entry{key: k, gz: make([]byte, n), raw: n, deps: deps}
	}
	one := mk("x", 1000, nil).size()
	c := newLRU(8*one + one/2) // room for 8 entries of 1000 bytes
	for i := 0; i < 8; i++ {
		c.put(mk(fmt.Sprint(i), 1000, nil))
	}
	if _, ok := c.get("0"); !ok { // 0 becomes the most recent
		t.Fatal("entry 0 missing")
	}
	c.put(mk("8", 1000, nil)) // one too many: 1, the least recently used, goes
	if _, ok := c.get("1"); ok {
		t.Error("entry 1 should have been evicted (least recently used)")
	}
	for _, k := range []string{"0", "2", "8"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("entry %s evicted", k)
		}
	}
	if b, n := c.stats(); b > 8*one+one/2 || n != 8 {
		t.Errorf("cache holds %d bytes in %d entries, limit %d", b, n, 8*one+one/2)
	}
	c.put(mk("huge", 2*int(one), nil)) // over an eighth of the limit: not stored
	if _, ok := c.get("huge"); ok {
		t.Error("an entry over limit/8 was stored")
	}
	// A change of villages drops the entries that read villages only.
	c.put(mk("a", 10, map[string]Version{"roads": {N: 1}}))
	c.put(mk("b", 10, map[string]Version{"roads": {N: 1}, "villages": {N: 1}}))
	c.put(mk("c", 10, map[string]Version{"villages": {N: 1}}))
	c.put(mk("d", 10, map[string]Version{"villages": {N: 2}}))
	if n := c.purge(map[string]Version{"villages": {N: 2}}); n != 2 {
		t.Errorf("purge removed %d entries, want 2 (b, c)", n)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("after purge, entry %s present = %v", k, ok)
		}
	}
}

func TestFlightGroupCoalescesAndCancels(t *testing.T) {
	g := &flightGroup{timeout: 10 * time.Second}
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(ctx context.Context) (*entry, error) {
		calls.Add(1)
		select {
		case <-release:
			return &entry{key: "k"}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// Ten concurrent callers, one rendering.
	var wg sync.WaitGroup
	shared := atomic.Int32{}
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, sh, err := g.do(context.Background(), "k", fn)
			if err != nil || e == nil {
				t.Errorf("do = %v, %v", e, err)
			}
			if sh {
				shared.Add(1)
			}
		}()
	}
	for g.waiters("k") < 10 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 || shared.Load() != 9 {
		t.Errorf("%d renderings and %d shared results, want 1 and 9", calls.Load(), shared.Load())
	}

	// One of two callers leaves: the rendering goes on for the other.
	calls.Store(0)
	release = make(chan struct{})
	gone, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, _, err := g.do(gone, "k2", fn); errc <- err }()
	for g.waiters("k2") < 1 {
		time.Sleep(time.Millisecond)
	}
	go func() { _, _, err := g.do(context.Background(), "k2", fn); errc <- err }()
	for g.waiters("k2") < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("leaving caller got %v", err)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("remaining caller got %v, want the tile", err)
	}

	// The only caller leaves: the rendering's context is cancelled.
	renderCtx := make(chan context.Context, 1)
	gone, cancel = context.WithCancel(context.Background())
	go func() {
		_, _, err := g.do(gone, "k3", func(ctx context.Context) (*entry, error) {
			renderCtx <- ctx
			<-ctx.Done()
			return nil, ctx.Err()
		})
		errc <- err
	}()
	rc := <-renderCtx
	cancel()
	<-errc
	select {
	case <-rc.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("rendering not cancelled after its last caller left")
	}
}

func (g *flightGroup) waiters(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.waiters
	}
	return 0
}

func TestAcceptsVersionsOnlyForward(t *testing.T) {
	vv := newVersionView()
	var changed []string
	vv.onChange = func(c map[string]Version) {
		for l := range c {
			changed = append(changed, l)
		}
	}
	vv.observe(map[string]Version{"roads": {N: 3, Stamp: 300}})
	vv.observe(map[string]Version{"roads": {N: 2, Stamp: 200}}) // a slow, older read
	got, _ := vv.get([]*layers.Layer{{ID: "roads"}})
	if got[0].N != 3 {
		t.Errorf("view went back to version %d", got[0].N)
	}
	vv.observe(map[string]Version{"roads": {N: 4, Stamp: 400}})
	// A database rebuilt from scratch: lower counter, later stamp.
	vv.observe(map[string]Version{"roads": {N: 1, Stamp: 500}})
	got, _ = vv.get([]*layers.Layer{{ID: "roads"}})
	if got[0] != (Version{N: 1, Stamp: 500}) {
		t.Errorf("view = %+v, want the rebuilt database's version", got[0])
	}
	if len(changed) != 2 {
		t.Errorf("onChange called for %v, want two changes", changed)
	}
}

// TestEntryEncodings: a rendered entry gives its raw MVT as is and
// compresses once; a cached entry holding gzip only decompresses once and
// is charged for the raw bytes it then keeps.
func TestEntryEncodings(t *testing.T) {
	raw := bytes.Repeat([]byte("homestead tile "), 400)
	e := &entry{key: "k", raw: len(raw), mvt: raw}
	if got, _ := e.rawBytes(); &got[0] != &raw[0] || e.gz != nil {
		t.Fatal("raw request of a fresh rendering copied or compressed it")
	}
	gz := e.gzipBytes()
	if len(gz) == 0 || len(gz) >= len(raw) || &e.gzipBytes()[0] != &gz[0] {
		t.Fatalf("gzip %d bytes (raw %d), or compressed twice", len(gz), len(raw))
	}
	c := newLRU(1 << 20)
	ce := &entry{key: "k", raw: len(raw), gz: gz}
	c.put(ce)
	before, _ := c.stats()
	got, err := ce.rawBytes()
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("decompressed %d bytes, %v", len(got), err)
	}
	if again, _ := ce.rawBytes(); &again[0] != &got[0] {
		t.Error("decompressed twice")
	}
	if after, _ := c.stats(); after != before+int64(len(raw)) {
		t.Errorf("cache charged %d after keeping the raw MVT, want %d", after, before+int64(len(raw)))
	}
	if surelyFits(MaxTileBytes, MaxTileBytes) || !surelyFits(MaxTileBytes*9/10, MaxTileBytes) {
		t.Error("surelyFits bound")
	}
	if n := len(compress(bytes.Repeat([]byte{0x9d}, 0))); n != 0 {
		t.Error("empty MVT compressed to bytes")
	}
}
