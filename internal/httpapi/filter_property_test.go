package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/features"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// EnvFilterSeed names the variable that fixes the seed of
// TestFilterPropertyNo5xx (printed by every run and every failure).
const EnvFilterSeed = "VILLAGEPLAN_FILTER_SEED"

// verdict is what the generator expects of a filter: accepted (200),
// refused (400), or either (a truncated filter may still parse).
type verdict int

const (
	vOK verdict = iota
	vAny
	vBad
)

func (v verdict) String() string { return [...]string{"ok", "any", "bad"}[v] }

// filterGen writes random valid-looking CQL2 filters for one layer and
// filter CRS, and knows which of them are well-typed.
type filterGen struct {
	r      *rand.Rand
	fields []layers.Field
	all    []layers.Field // with the personal ones
	srid   int
}

func (g *filterGen) pick(n int) int        { return g.r.Intn(n) }
func (g *filterGen) chance(p float64) bool { return g.r.Float64() < p }

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var textAlphabet = []string{"a", "Z", "大", "营", "村", "号", "'", " ", "%", "_", "é", "1", "-", "\"", "(", ")", "\\\\", ";", "𠀀"}

func (g *filterGen) text() string {
	var b strings.Builder
	for i := g.pick(8); i > 0; i-- {
		b.WriteString(textAlphabet[g.pick(len(textAlphabet))])
	}
	return "x" + b.String() // never a code-list value
}

func (g *filterGen) number() string {
	switch g.pick(6) {
	case 0:
		return strconv.Itoa(g.pick(2000000) - 1000000)
	case 1:
		return []string{"1e308", "-1e308", "1e-300", "-0", "0.0", "2147483648", "-2147483649", ".5", "+7"}[g.pick(9)]
	}
	return strconv.FormatFloat((g.r.Float64()-0.5)*1e4, 'f', g.pick(6), 64)
}

func (g *filterGen) date() string {
	y, m := 1+g.pick(9999), 1+g.pick(12)
	d := 1 + g.pick(time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day())
	return fmt.Sprintf("DATE('%04d-%02d-%02d')", y, m, d)
}

// literal returns a literal of the field's type (ok) or of another kind
// (bad). Code-list text fields get list values when codes is set.
func (g *filterGen) literal(f layers.Field, right, codes bool) string {
	if right {
		switch f.Type {
		case layers.Integer, layers.Real:
			return g.number()
		case layers.Date:
			return g.date()
		case layers.Bool:
			return []string{"TRUE", "FALSE"}[g.pick(2)]
		}
		if cl, ok := layers.CodeListByID(f.CodeList); ok && (codes || g.chance(0.5)) {
			return quote(cl.Values[g.pick(len(cl.Values))].Value)
		}
		return quote(g.text())
	}
	for {
		var s string
		var kind layers.FieldType
		switch g.pick(6) {
		case 0:
			s, kind = g.number(), layers.Real
		case 1:
			s, kind = quote(g.text()), layers.Text
		case 2:
			s, kind = g.date(), layers.Date
		case 3:
			s, kind = "TRUE", layers.Bool
		case 4:
			return "TIMESTAMP('2020-01-01T08:00:00Z')"
		case 5:
			return []string{"DATE('2021-02-29')", "DATE('2020-13-01')", "DATE('20-01-01')"}[g.pick(3)]
		}
		if kind == f.Type || kind == layers.Real && f.Type == layers.Integer || kind == layers.Text && f.Type == layers.Text {
			continue
		}
		if f.Type == layers.Real && kind == layers.Real {
			continue
		}
		return s
	}
}

func (g *filterGen) field() layers.Field { return g.fields[g.pick(len(g.fields))] }

var compOps = []string{"=", "<>", "<", ">", "<=", ">="}

func (g *filterGen) predicate() (string, verdict) {
	f := g.field()
	right := g.chance(0.75)
	v := vOK
	if !right {
		v = vBad
	}
	switch g.pick(12) {
	case 0, 1, 2: // comparison
		op := compOps[g.pick(len(compOps))]
		lit := g.literal(f, right, op == "=" || op == "<>")
		if g.chance(0.2) {
			return lit + " " + op + " " + f.Name, v
		}
		return f.Name + " " + op + " " + lit, v
	case 3: // LIKE
		pat := strings.ReplaceAll(g.text(), "\\\\", "")
		if g.chance(0.5) {
			pat += "%"
		}
		not := []string{"", "NOT "}[g.pick(2)]
		if f.Type != layers.Text {
			return f.Name + " " + not + "LIKE " + quote(pat), vBad
		}
		if g.chance(0.3) {
			return "CASEI(" + f.Name + ") " + not + "LIKE CASEI(" + quote(pat) + ")", vOK
		}
		return f.Name + " " + not + "LIKE " + quote(pat), vOK
	case 4: // BETWEEN
		if f.Type == layers.Bool {
			return f.Name + " BETWEEN TRUE AND FALSE", vBad
		}
		lo := g.literal(f, true, false)
		hi := g.literal(f, right, false)
		return f.Name + " " + []string{"", "NOT "}[g.pick(2)] + "BETWEEN " + lo + " AND " + hi, v
	case 5: // IN
		n := 1 + g.pick(4)
		var items []string
		bad := g.pick(n + 1)
		for i := 0; i < n; i++ {
			items = append(items, g.literal(f, right || i != bad, true))
		}
		if !right && bad == n {
			v = vOK
		}
		return f.Name + " " + []string{"", "NOT "}[g.pick(2)] + "IN (" + strings.Join(items, ", ") + ")", v
	case 6:
		return f.Name + " IS " + []string{"", "NOT "}[g.pick(2)] + "NULL", vOK
	case 7, 8:
		w, wv := g.geometry(0)
		if g.chance(0.2) {
			return "S_INTERSECTS(" + w + ", geometry)", wv
		}
		return "S_INTERSECTS(geometry, " + w + ")", wv
	case 9: // literal against literal
		a, b := g.number(), g.number()
		switch g.pick(4) {
		case 0:
			return a + " " + compOps[g.pick(6)] + " " + b, vOK
		case 1:
			return quote(g.text()) + " = " + quote(g.text()), vOK
		case 2:
			return g.date() + " < " + g.date(), vOK
		}
		return a + " = " + quote(g.text()), vBad
	case 10: // functions and names that do not exist
		switch g.pick(5) {
		case 0:
			return "FOO(" + f.Name + ") = 1", vBad
		case 1:
			return "ACCENTI(" + f.Name + ") = 'a'", vAny // unaccent may exist
		case 2:
			return "no_such_field = 1", vBad
		case 3:
			for _, pf := range g.all {
				if pf.Personal {
					return pf.Name + " = 'a'", vBad
				}
			}
			return "no_such_field = 1", vBad
		}
		return "CASEI(" + f.Name + ") = CASEI(" + quote(g.text()) + ")", map[bool]verdict{true: vOK, false: vBad}[f.Type == layers.Text]
	}
	return []string{"TRUE", "FALSE", "NOT TRUE"}[g.pick(3)], vOK
}

// position returns a position in the filter CRS's axis order near the
// sample township (125.76°E 43.60°N), or far outside every domain.
func (g *filterGen) position(dim int) (string, verdict) {
	lon, lat := 125.70+g.r.Float64()*0.12, 43.56+g.r.Float64()*0.08
	var a1, a2 float64
	switch g.srid {
	case 0:
		a1, a2 = lon, lat
	case 4490, 4326:
		a1, a2 = lat, lon
	case 3857:
		a1 = lon * 20037508.342789244 / 180
		a2 = math.Log(math.Tan((90+lat)*math.Pi/360)) * 6378137
	case 4530:
		a1, a2 = 4825000+g.r.Float64()*10000, 42475000+g.r.Float64()*10000
	default: // 4551
		a1, a2 = 4825000+g.r.Float64()*10000, 475000+g.r.Float64()*10000
	}
	v := vOK
	if g.chance(0.03) {
		a1, v = 1e9, vBad
	}
	s := strconv.FormatFloat(a1, 'f', -1, 64) + " " + strconv.FormatFloat(a2, 'f', -1, 64)
	if dim == 3 {
		s += " " + strconv.Itoa(g.pick(100))
	}
	return s, v
}

// positions writes n positions, the ring closed if closed; one of them
// may get a third number (inconsistent dimensions: bad).
func (g *filterGen) positions(n int, closed bool, dim int) (string, verdict) {
	v := vOK
	var ps []string
	last := n
	if closed {
		last = n - 1 // the closing position repeats the first
	}
	for i := 0; i < last; i++ {
		d := dim
		if g.chance(0.02) {
			d = 5 - dim
			v = vBad
		}
		p, pv := g.position(d)
		v = max(v, pv)
		ps = append(ps, p)
	}
	if closed && len(ps) > 0 {
		if g.chance(0.9) {
			ps = append(ps, ps[0])
		} else {
			p, pv := g.position(dim)
			ps, v = append(ps, p), max(v, pv, vBad) // not closed
		}
	}
	return "(" + strings.Join(ps, ", ") + ")", v
}

func (g *filterGen) ring(dim int) (string, verdict) {
	n := 4 + g.pick(6)
	if g.chance(0.05) {
		n = 3
		s, _ := g.positions(n, true, dim)
		return s, vBad
	}
	return g.positions(n, true, dim)
}

func (g *filterGen) polygon(dim int) (string, verdict) {
	s, v := g.ring(dim)
	if g.chance(0.2) {
		h, hv := g.ring(dim)
		s, v = s+", "+h, max(v, hv)
	}
	return "(" + s + ")", v
}

func (g *filterGen) geometry(depth int) (string, verdict) {
	dim := 2
	z := ""
	if g.chance(0.1) {
		dim, z = 3, " Z"
	}
	switch g.pick(8) {
	case 0:
		p, v := g.position(dim)
		return "POINT" + z + "(" + p + ")", v
	case 1:
		n := 2 + g.pick(5)
		v := vOK
		if g.chance(0.05) {
			n, v = 1, vBad
		}
		s, pv := g.positions(n, false, dim)
		return "LINESTRING" + z + s, max(v, pv)
	case 2, 3:
		s, v := g.polygon(dim)
		return "POLYGON" + z + s, v
	case 4:
		a, av := g.polygon(dim)
		b, bv := g.polygon(dim)
		return "MULTIPOLYGON" + z + "(" + a + ", " + b + ")", max(av, bv)
	case 5:
		a, av := g.position(dim)
		b, bv := g.position(dim)
		return "MULTIPOINT" + z + "((" + a + "), " + b + ")", max(av, bv)
	case 6:
		if depth < 2 {
			a, av := g.geometry(depth + 1)
			b, bv := g.geometry(depth + 1)
			if strings.Contains(a, " Z") != strings.Contains(b, " Z") {
				av = max(av, vAny) // Z and 2D members: consistent only if no numbers follow
			}
			return "GEOMETRYCOLLECTION(" + a + ", " + b + ")", max(av, bv)
		}
		return "POINT EMPTY", vOK
	}
	if depth == 0 {
		return g.bbox()
	}
	return "POINT EMPTY", vOK
}

// bbox is BBOX(…) in the filter CRS's axis order, corners ordered or not.
func (g *filterGen) bbox() (string, verdict) {
	p1, v1 := g.position(2)
	p2, v2 := g.position(2)
	c1, c2 := strings.Fields(p1), strings.Fields(p2)
	x1, _ := strconv.ParseFloat(c1[0], 64)
	y1, _ := strconv.ParseFloat(c1[1], 64)
	x2, _ := strconv.ParseFloat(c2[0], 64)
	y2, _ := strconv.ParseFloat(c2[1], 64)
	v := max(v1, v2)
	if g.chance(0.9) {
		x1, x2 = min(x1, x2), max(x1, x2)
		y1, y2 = min(y1, y2), max(y1, y2)
	} else if x1 > x2 || y1 > y2 {
		v = vBad
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return "BBOX(" + f(x1) + ", " + f(y1) + ", " + f(x2) + ", " + f(y2) + ")", v
}

func (g *filterGen) expr(depth int) (string, verdict) {
	if depth >= 3 || g.chance(0.45) {
		return g.predicate()
	}
	a, av := g.expr(depth + 1)
	switch g.pick(3) {
	case 0:
		return "NOT (" + a + ")", av
	case 1:
		b, bv := g.expr(depth + 1)
		return "(" + a + ") AND (" + b + ")", max(av, bv)
	}
	b, bv := g.expr(depth + 1)
	return a + " OR " + b, max(av, bv)
}

// filter is a whole filter; now and then it is cut short (may still parse).
func (g *filterGen) filter() (string, verdict) {
	s, v := g.expr(0)
	if g.chance(0.05) {
		return s[:g.pick(len(s)+1)], vAny
	}
	return s, v
}

// TestFilterPropertyNo5xx sends random valid-looking CQL2 filters (random
// properties of every collection, operators, literals of the right and
// wrong types, WKT literals with broken rings, mixed dimensions and
// far-off positions, every filter CRS offered, with and without a bbox)
// through the HTTP handler to the sample township in a real PostGIS, which
// runs the SQL. No answer may be 5xx; a well-typed filter must give 200 and
// a deliberately ill-typed one 400 with a JSON error naming the parameter.
// It runs for at most 20 s and 4000 requests; the seed is printed and
// can be fixed with VILLAGEPLAN_FILTER_SEED.
func TestFilterPropertyNo5xx(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv(EnvFilterSeed); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", EnvFilterSeed, s, err)
		}
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, EnvFilterSeed, seed)

	pool := testpg.New(t)
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default()}))
	t.Cleanup(ts.Close)

	cat := layers.Default()
	offered := map[string]map[int]bool{}
	for _, l := range cat.Layers() {
		_, b := fetch(t, "GET", ts.URL+"/collections/"+l.ID, nil)
		var doc struct{ CRS []string }
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		offered[l.ID] = map[int]bool{}
		for _, c := range doc.CRS {
			n, _ := strconv.Atoi(c[strings.LastIndexByte(c, '/')+1:])
			if strings.HasSuffix(c, "CRS84") {
				n = 0
			}
			offered[l.ID][n] = true
		}
	}
	srids := []int{0, 4490, 4326, 3857, 4530, 4551}

	const workers, maxRequests = 4, 4000
	deadline := time.Now().Add(20 * time.Second)
	var sent atomic.Int64
	var mu sync.Mutex
	counts := map[string]int{}
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed + int64(w)))
			for i := 0; time.Now().Before(deadline) && sent.Add(1) <= maxRequests; i++ {
				l := cat.Layers()[r.Intn(len(cat.Layers()))]
				g := &filterGen{r: r, fields: features.VisibleFields(l, false), all: l.Fields, srid: srids[r.Intn(len(srids))]}
				filter, want := g.filter()
				q := url.Values{"filter": {filter}, "limit": {"3"}}
				if g.srid != 0 || g.chance(0.2) {
					q.Set("filter-crs", map[bool]string{true: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", false: fmt.Sprintf("http://www.opengis.net/def/crs/EPSG/0/%d", g.srid)}[g.srid == 0])
					if !offered[l.ID][g.srid] {
						want = vBad
					}
				}
				if g.chance(0.2) {
					bg := &filterGen{r: r, srid: srids[r.Intn(len(srids))]}
					box, bv := bg.bbox()
					{
						q.Set("bbox", strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(box, "BBOX("), ")"), " ", ""))
						if bg.srid != 0 {
							q.Set("bbox-crs", fmt.Sprintf("http://www.opengis.net/def/crs/EPSG/0/%d", bg.srid))
							if !offered[l.ID][bg.srid] {
								bv = vBad
							}
						}
						want = max(want, bv)
					}
				}
				u := ts.URL + "/collections/" + l.ID + "/items?" + q.Encode()
				resp, err := client.Get(u)
				if err != nil {
					t.Errorf("seed %d worker %d request %d: %v", seed, w, i, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				counts[fmt.Sprintf("%s→%d", want, resp.StatusCode)]++
				mu.Unlock()
				fail := resp.StatusCode >= 500 ||
					want == vOK && resp.StatusCode != 200 ||
					want == vBad && resp.StatusCode != 400
				if resp.StatusCode == 400 {
					var body struct{ Code, Description string }
					if json.Unmarshal(b, &body) != nil || body.Code != "InvalidParameterValue" || !strings.Contains(body.Description, "参数 ") {
						fail = true
					}
				}
				if fail {
					t.Errorf("seed %d worker %d request %d: %s expected %s, got %d %.400s\nfilter: %s\nURL: %s",
						seed, w, i, l.ID, want, resp.StatusCode, b, filter, u)
					if t.Failed() && len(counts) > 0 && sent.Load() > 0 {
						mu.Lock()
						n := counts["fail"] + 1
						counts["fail"] = n
						mu.Unlock()
						if n > 20 {
							return
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	total := 0
	for k, n := range counts {
		if k != "fail" {
			total += n
		}
	}
	t.Logf("seed %d: %d requests in ≤ 20 s: %v", seed, total, counts)
	if total < 200 {
		t.Errorf("only %d requests ran", total)
	}
	if counts["ok→200"] < total/5 || counts["bad→400"] < total/5 {
		t.Errorf("the generator is lopsided: %v", counts)
	}
}
