package tiles

// SQL returns the statement that renders tile a of ts with the default
// generalisation of its zoom, and its bind values — the exact SQL the
// service prepares, for EXPLAIN and for benchmarks of the raw database
// ceiling (tiles/tilebench). names are the parameters in $n order: "z",
// "x", "y", "min_area", "min_length", "tolerance", "cell", "cap:LAYER"
// and, for an as-of filter (Filter.AsOf), "asof".
func (ts *Tileset) SQL(a Address, f ...Filter) (sql string, names []string, args []any) {
	var ff Filter
	if len(f) > 0 {
		ff = f[0]
	}
	st := ts.statement(a.Z, a.Z < DetailZoom, ff)
	return st.sql, append([]string(nil), st.args...), st.argValues(a, GeneralisationAt(a.Z), ff)
}
