package tiles

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"villageplan/internal/features"
	"villageplan/layers"
)

// This file holds all tile SQL. A statement is built once per tileset,
// zoom band and filter set from the catalog (identifiers come only from
// the catalog, quoted with layers.QuoteIdent; every value is a bind
// parameter) and run by pgx as a cached prepared statement.
//
// Shape of the statement for a tileset of layers A and B:
//
//	WITH e AS (SELECT ST_TileEnvelope($z,$x,$y) AS env,
//	                  ST_TileEnvelope($z,$x,$y, margin => Buffer/Extent) AS clip)
//	SELECT coalesce((SELECT ST_AsMVT(q, 'A', 4096, 'geom', 'id') FROM (
//	           SELECT t.id, ST_AsMVTGeom(<generalised t.geom_3857>, e.env, 4096, 64, true) AS geom, t."f1", …
//	           FROM "villageplan"."A" t, e
//	           WHERE t.geom_3857 && e.clip AND <size filter>
//	           ORDER BY <area or length> DESC, t.id LIMIT $cap) q), '')   -- below DetailZoom
//	    || coalesce((… B …), '') AS mvt,
//	       v.layers, v.versions, v.stamps
//	FROM (SELECT array_agg(layer), array_agg(version), array_agg(updated_at) FROM villageplan.layer_version) v
//
// The version arrays are read by the same statement, hence from the same
// snapshot as the features: the cache stores a tile under the layer
// versions its content really has.
//
// Robustness (each case is checked by TestRobustness, TestThinPolygonWinding
// and TestRealOSMData in tiles_test.go):
//   - features whose bounding box touches the tile but whose geometry
//     clips to nothing, or collapses to nothing on the 4096 grid, come back
//     from ST_AsMVTGeom as NULL, and ST_AsMVT skips rows with a NULL
//     geometry. (An outer "WHERE geom IS NOT NULL" would be pushed down by
//     the planner into the scan and make PostgreSQL run ST_AsMVTGeom twice
//     per feature.)
//   - invalid stored polygons are repaired by ST_AsMVTGeom (wagyu/GEOS
//     make-valid after snapping), which also rewinds rings whose
//     orientation flipped under quantisation;
//   - Z and M ordinates are dropped by ST_AsMVTGeom;
//   - NULL geometries never match &&;
//   - an empty layer gives a zero-length ST_AsMVT, i.e. no layer in the
//     tile; a tile with no layer at all is an empty tile;
//   - only geom_3857 is read: nothing is reprojected at request time, so a
//     z0 tile never transforms a world-sized envelope into EPSG:4490.

// params assigns positional parameters ($1, $2 …) to named values in the
// order the statement first uses them, so that every statement references
// every parameter it declares.
type params struct {
	names []string
}

func (p *params) ref(name, sqlType string) string {
	for i, n := range p.names {
		if n == name {
			return fmt.Sprintf("$%d::%s", i+1, sqlType)
		}
	}
	p.names = append(p.names, name)
	return fmt.Sprintf("$%d::%s", len(p.names), sqlType)
}

// Parameter names used by the statements; filter parameters are
// "filter:" + field name, feature caps "cap:" + layer ID.
const (
	argZ         = "z"
	argX         = "x"
	argY         = "y"
	argMinArea   = "min_area"
	argMinLength = "min_length"
	argTolerance = "tolerance"
	argCell      = "cell"
	argFilter    = "filter:"
	argCap       = "cap:"
	argAsOf      = "asof"
)

// statement is one prepared tile statement.
type statement struct {
	sql    string
	args   []string        // parameter names in $n order
	layers []*layers.Layer // layers the statement reads, map order
	digest string          // hex SHA-256 of sql, part of every ETag
}

// tileFields returns the attributes of l carried in tiles at zoom z: never
// personal fields, never fields with TileMinZoom −1, others from their
// TileMinZoom on.
func tileFields(l *layers.Layer, z int) []layers.Field {
	var out []layers.Field
	for _, f := range l.Fields {
		if f.Personal || f.TileMinZoom < 0 || z < f.TileMinZoom {
			continue
		}
		out = append(out, f)
	}
	return out
}

// visibleAt reports whether layer l appears in tiles at zoom z.
func visibleAt(l *layers.Layer, z int) bool { return z >= l.MinZoom && z <= l.MaxZoom }

// buildStatement builds the statement rendering ls (already filtered to
// those visible at z) at zoom z. generalise selects the variant that
// simplifies, drops features under a pixel, thins points and caps each
// layer's features, largest first (always below DetailZoom; at and above it
// only when a tile came out over MaxTileBytes). filters maps a field of the
// single layer to a text[] parameter. asOf reads every layer as it was at
// the instant of parameter argAsOf (features.AsOfSQL, the source of as-of
// items) instead of its table.
func buildStatement(ls []*layers.Layer, z int, generalise bool, filters []string, asOf bool) *statement {
	var p params
	var b strings.Builder
	z1, x1, y1 := p.ref(argZ, "integer"), p.ref(argX, "integer"), p.ref(argY, "integer")
	fmt.Fprintf(&b, "WITH e AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env, ST_TileEnvelope(%s, %s, %s, margin => %g) AS clip)\nSELECT ",
		z1, x1, y1, z1, x1, y1, float64(Buffer)/Extent)
	if len(ls) == 0 {
		b.WriteString("''::bytea")
	}
	for i, l := range ls {
		if i > 0 {
			b.WriteString("\n    || ")
		}
		src := l.QualifiedTable()
		if asOf {
			src = features.AsOfSQL(l, layers.QuoteLiteral(l.ID), p.ref(argAsOf, "timestamptz"),
				fmt.Sprintf("ST_TileEnvelope(%s, %s, %s, margin => %g)", z1, x1, y1, float64(Buffer)/Extent))
		}
		writeLayer(&b, &p, l, src, z, generalise, filters)
		if HasLabelPoints(l) {
			b.WriteString("\n    || ")
			writeLabelPoints(&b, &p, l, src, filters)
		}
	}
	b.WriteString(" AS mvt, v.layers, v.versions, v.stamps\n")
	fmt.Fprintf(&b, "FROM (SELECT array_agg(layer ORDER BY layer) AS layers, array_agg(version ORDER BY layer) AS versions, "+
		"array_agg((extract(epoch FROM updated_at) * 1000000)::bigint ORDER BY layer) AS stamps FROM %s.layer_version) v",
		layers.QuoteIdent(layers.Schema))
	sum := sha256.Sum256([]byte(b.String()))
	return &statement{sql: b.String(), args: p.names, layers: ls, digest: hex.EncodeToString(sum[:])}
}

// writeLayer writes the MVT layer of l read from src (its table, or an
// as-of subquery with the same columns).
func writeLayer(b *strings.Builder, p *params, l *layers.Layer, src string, z int, generalise bool, filters []string) {
	geom := "t.geom_3857"
	var where []string
	where = append(where, "t.geom_3857 && e.clip")
	var order, distinct string
	if generalise {
		switch l.Geometry {
		case layers.MultiPolygon:
			where = append(where, "ST_Area(t.geom_3857) >= "+p.ref(argMinArea, "float8"))
			geom = "ST_Simplify(t.geom_3857, " + p.ref(argTolerance, "float8") + ", true)"
			order = "ST_Area(t.geom_3857) DESC, t.id"
		case layers.MultiLineString:
			where = append(where, "ST_Length(t.geom_3857) >= "+p.ref(argMinLength, "float8"))
			geom = "ST_Simplify(t.geom_3857, " + p.ref(argTolerance, "float8") + ", true)"
			order = "ST_Length(t.geom_3857) DESC, t.id"
		case layers.Point:
			cell := "ST_SnapToGrid(t.geom_3857, " + p.ref(argCell, "float8") + ")"
			distinct = "DISTINCT ON (" + cell + ") "
			order = cell + ", t.id"
		}
	}
	for _, f := range filters {
		where = append(where, "t."+layers.QuoteIdent(f)+" = ANY("+p.ref(argFilter+f, "text[]")+")")
	}
	var cols strings.Builder
	for _, f := range tileFields(l, z) {
		col := "t." + layers.QuoteIdent(f.Name)
		if f.Type == layers.Date {
			// ST_AsMVT has no date type: ISO 8601 text, as on the wire.
			col += "::text"
		}
		cols.WriteString(", " + col + " AS " + layers.QuoteIdent(f.Name))
	}
	fmt.Fprintf(b, "coalesce((SELECT ST_AsMVT(q, %s, %d, 'geom', 'id') FROM (\n      SELECT %st.id, ST_AsMVTGeom(%s, e.env, %d, %d, true) AS geom%s\n      FROM %s t, e\n      WHERE %s",
		layers.QuoteLiteral(l.ID), Extent, distinct, geom, Extent, Buffer, cols.String(), src, strings.Join(where, " AND "))
	if order != "" {
		// PostgreSQL evaluates ST_AsMVTGeom after the top-N sort, so only
		// the kept features are encoded.
		b.WriteString("\n      ORDER BY " + order + " LIMIT " + p.ref(argCap+l.ID, "integer"))
	}
	b.WriteString(") q), ''::bytea)")
}

// LabelLayerSuffix names the MVT layer of label points of a labelled
// polygon layer (villages → villages_label).
const LabelLayerSuffix = "_label"

// HasLabelPoints reports whether polygon layer l gets a label-point MVT
// layer: MapLibre places a polygon's label once per tile it crosses, so a
// village name would repeat along every tile border; one point per
// feature (ST_PointOnSurface), written only to the tile that holds it,
// labels each polygon once.
func HasLabelPoints(l *layers.Layer) bool {
	return l.Geometry == layers.MultiPolygon && l.Style.LabelField != ""
}

// writeLabelPoints writes the label-point layer of l: id and label field
// at ST_PointOnSurface, no buffer, so a point falls in one tile.
func writeLabelPoints(b *strings.Builder, p *params, l *layers.Layer, src string, filters []string) {
	where := []string{"t.geom_3857 && e.env", "ST_Intersects(ST_PointOnSurface(t.geom_3857), e.env)"}
	for _, f := range filters {
		// the polygon layer's filter parameters (ref returns the same $n)
		where = append(where, "t."+layers.QuoteIdent(f)+" = ANY("+p.ref(argFilter+f, "text[]")+")")
	}
	fmt.Fprintf(b, "coalesce((SELECT ST_AsMVT(q, %s, %d, 'geom', 'id') FROM (\n      SELECT t.id, ST_AsMVTGeom(ST_PointOnSurface(t.geom_3857), e.env, %d, 0, true) AS geom, t.%s AS %s\n      FROM %s t, e\n      WHERE %s) q), ''::bytea)",
		layers.QuoteLiteral(l.ID+LabelLayerSuffix), Extent, Extent, layers.QuoteIdent(l.Style.LabelField), layers.QuoteIdent(l.Style.LabelField),
		src, strings.Join(where, " AND "))
}

// argValues returns the bind values of st for address a, generalisation g
// and filter f (its values and instant).
func (st *statement) argValues(a Address, g Generalisation, f Filter) []any {
	out := make([]any, len(st.args))
	for i, n := range st.args {
		switch n {
		case argZ:
			out[i] = a.Z
		case argX:
			out[i] = a.X
		case argY:
			out[i] = a.Y
		case argMinArea:
			out[i] = g.MinArea
		case argMinLength:
			out[i] = g.MinLength
		case argTolerance:
			out[i] = g.Tolerance
		case argCell:
			out[i] = g.Cell
		case argAsOf:
			out[i] = f.at
		default:
			if layer, ok := strings.CutPrefix(n, argCap); ok {
				out[i] = g.maxFeatures(layer)
			} else {
				out[i] = f.values[strings.TrimPrefix(n, argFilter)]
			}
		}
	}
	return out
}
