package tiles

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"villageplan/layers"
)

// MapTileset is the ID of the composite tileset that carries every map
// layer of the catalog in one tile.
const MapTileset = "map"

// Tileset is a set of catalog layers served as one MVT tile: either one
// layer (ID = the layer ID) or all layers (ID = MapTileset).
type Tileset struct {
	ID string
	// Layers are the member layers in map order (bottom first).
	Layers []*layers.Layer
	// MinZoom and MaxZoom bound the zooms at which at least one member layer
	// is visible.
	MinZoom, MaxZoom int

	mu    sync.Mutex
	stmts map[stmtKey]*statement
}

type stmtKey struct {
	z          int
	generalise bool
	filters    string // comma-joined field names, sorted
	asOf       bool
}

func newTileset(id string, ls []*layers.Layer) *Tileset {
	ts := &Tileset{ID: id, Layers: ls, MinZoom: MaxZoom, MaxZoom: 0, stmts: map[stmtKey]*statement{}}
	for _, l := range ls {
		ts.MinZoom = min(ts.MinZoom, l.MinZoom)
		ts.MaxZoom = max(ts.MaxZoom, l.MaxZoom)
	}
	return ts
}

// LayersAt returns the member layers visible at zoom z.
func (ts *Tileset) LayersAt(z int) []*layers.Layer {
	var out []*layers.Layer
	for _, l := range ts.Layers {
		if visibleAt(l, z) {
			out = append(out, l)
		}
	}
	return out
}

// statement returns the (memoised) statement for zoom z, filter fields and
// instant (f.AsOf) of f. Statements for equal SQL are shared, so one
// prepared statement serves a whole zoom band.
func (ts *Tileset) statement(z int, generalise bool, f Filter) *statement {
	filterFields, asOf := f.fields, !f.at.IsZero()
	k := stmtKey{z: z, generalise: generalise, filters: strings.Join(filterFields, ","), asOf: asOf}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if st, ok := ts.stmts[k]; ok {
		return st
	}
	st := buildStatement(ts.LayersAt(z), z, generalise, filterFields, asOf)
	for _, other := range ts.stmts {
		if other.sql == st.sql {
			st = other
			break
		}
	}
	ts.stmts[k] = st
	return st
}

// FilterError reports a query parameter of a tile request that the catalog
// does not allow. The HTTP layer answers it with 400.
type FilterError struct{ Reason string }

func (e *FilterError) Error() string { return "tile filter: " + e.Reason }

// Filter is a validated attribute filter of a single-layer tile request:
// field → allowed stored values (OR within a field, AND across fields),
// and the instant the tile shows (zero: now).
type Filter struct {
	fields []string            // sorted
	values map[string][]string // canonical code-list values, sorted
	at     time.Time
}

// AsOf returns f reading every layer as it was at instant at (OGC
// datetime=), from the current rows and villageplan.feature_versions as
// as-of items do (features.AsOfSQL). The caller decides who may ask and
// refuses instants the history does not reach; a zero at is now.
func (f Filter) AsOf(at time.Time) Filter {
	f.at = at
	return f
}

// String is the canonical form of the filter, used in cache keys: an
// as-of tile is keyed on its instant (in µs, as the database stores it)
// besides the layer versions every key carries, so a tile of a past
// instant is cached like a current one and dropped when its layers change
// (a transaction that began before the instant and commits later changes
// what the instant shows: edits are stamped with their start time).
func (f Filter) String() string {
	var parts []string
	for _, n := range f.fields {
		parts = append(parts, n+"="+strings.Join(f.values[n], ","))
	}
	s := strings.Join(parts, "&")
	if !f.at.IsZero() {
		s += "@" + strconv.FormatInt(f.at.UnixMicro(), 10)
	}
	return s
}

// FilterableFields returns the fields of l that tile requests may filter
// on: attributes with a code list that are carried in tiles and are not
// personal. Values must come from the code list.
func FilterableFields(l *layers.Layer) []layers.Field {
	var out []layers.Field
	for _, f := range l.Fields {
		if f.CodeList != "" && !f.Personal && f.TileMinZoom >= 0 && f.Type == layers.Text {
			out = append(out, f)
		}
	}
	return out
}

// ParseFilter validates the query of a tile request for tileset ts. Only
// single-layer tilesets accept filters; each parameter must name a field of
// FilterableFields, its value a comma-separated list of code-list values
// (stored value, Chinese name or alias). Anything else is a *FilterError.
func ParseFilter(ts *Tileset, q url.Values) (Filter, error) {
	f := Filter{values: map[string][]string{}}
	if len(q) == 0 {
		return f, nil
	}
	if len(ts.Layers) != 1 || ts.ID == MapTileset {
		return f, &FilterError{Reason: fmt.Sprintf("tileset %q takes no query parameters; filters apply to single-layer tilesets", ts.ID)}
	}
	l := ts.Layers[0]
	allowed := map[string]layers.Field{}
	var names []string
	for _, fl := range FilterableFields(l) {
		allowed[fl.Name] = fl
		names = append(names, fl.Name)
	}
	for name, vals := range q {
		fl, ok := allowed[name]
		if !ok {
			return f, &FilterError{Reason: fmt.Sprintf("layer %q cannot be filtered by %q; filterable fields: %s", l.ID, name, strings.Join(names, ", "))}
		}
		cl, _ := layers.CodeListByID(fl.CodeList)
		seen := map[string]bool{}
		for _, v := range vals {
			for _, s := range strings.Split(v, ",") {
				cv, ok := cl.Lookup(s)
				if !ok {
					return f, &FilterError{Reason: fmt.Sprintf("%q is not a value of %s (code list %s)", s, name, cl.ID)}
				}
				if !seen[cv.Value] {
					seen[cv.Value] = true
					f.values[name] = append(f.values[name], cv.Value)
				}
			}
		}
		sort.Strings(f.values[name])
		f.fields = append(f.fields, name)
	}
	sort.Strings(f.fields)
	return f, nil
}
