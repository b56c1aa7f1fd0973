// Package features reads catalog layers as GeoJSON features for the OGC API
// – Features interface and for downloads.
//
// All SQL of the concern is here. Table and column names come from the
// layer catalog only; every value from a request is a bind parameter.
// PostGIS builds the GeoJSON text of each feature (ST_AsGeoJSON plus
// json_build_object for the properties), so Go only streams bytes.
//
// Coordinates: layers are stored in CGCS2000 (EPSG:4490). The default
// output, CRS84, writes the stored longitude/latitude unchanged: CGCS2000
// and WGS 84 agree to a few centimetres, below the precision of the data.
// Other output CRSs are reprojected by PostGIS and written in the axis order
// of their EPSG definition (latitude first for EPSG:4490/4326, northing
// first for the Gauss-Krüger codes), as OGC API – Features Part 2 requires.
package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/geo/crs"
	"villageplan/internal/db"
	"villageplan/layers"
)

// MaxLimit is the largest page size served by Items; DefaultLimit is used
// when the request names none.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
	// MatchCountCap bounds the exact count behind numberMatched: above it
	// numberMatched is left out of the response (it is optional in OGC API
	// – Features) rather than paying for a full count.
	MatchCountCap = 10000
)

// ErrNotFound is returned when a feature id does not exist in the layer.
var ErrNotFound = errors.New("feature not found")

// Service answers feature queries on the catalog layers.
type Service struct {
	pool    *pgxpool.Pool
	catalog *layers.Catalog
	// starts caches each layer's history start (CheckInstant): layer id →
	// time.Time.
	starts sync.Map
}

// New returns a Service on pool for the layers of catalog.
func New(pool *pgxpool.Pool, catalog *layers.Catalog) *Service {
	return &Service{pool: pool, catalog: catalog}
}

// Catalog returns the layer catalog the service reads.
func (s *Service) Catalog() *layers.Catalog { return s.catalog }

// BBox is a bounding box in the CRS named by SRID (0 = CRS84), given in the
// axis order of that CRS's EPSG definition as sent by the client; MinX/MinY
// are the first and second axis of the lower corner.
type BBox struct {
	MinA1, MinA2, MaxA1, MaxA2 float64
	SRID                       int
}

// BBoxError is a bounding box that cannot be used: corners in the wrong
// order or outside the domain of its CRS. ZH and EN say which.
type BBoxError struct{ ZH, EN string }

func (e *BBoxError) Error() string { return e.ZH + "；" + e.EN }

// Check refuses a box whose lower corner lies above or right of its upper
// corner (no layer of a township crosses the antimeridian, so a CRS84 box
// that would is refused rather than guessed), or whose corners lie outside
// the domain of its CRS (crs.CRS.Domain: ±180°/±90°, the Web-Mercator
// square, the plane area of a Gauss-Krüger zone), where PostGIS could not
// transform it. Errors are *BBoxError.
func (bb *BBox) Check() error {
	g := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	if bb.MinA1 > bb.MaxA1 || bb.MinA2 > bb.MaxA2 {
		return &BBoxError{
			ZH: fmt.Sprintf("左下角 (%s, %s) 不在右上角 (%s, %s) 的左下方", g(bb.MinA1), g(bb.MinA2), g(bb.MaxA1), g(bb.MaxA2)),
			EN: fmt.Sprintf("the lower corner (%s, %s) is not below and left of the upper corner (%s, %s)", g(bb.MinA1), g(bb.MinA2), g(bb.MaxA1), g(bb.MaxA2)),
		}
	}
	c := crs.CRS84()
	if bb.SRID != 0 {
		var ok bool
		if c, ok = crs.Lookup(bb.SRID); !ok {
			return &BBoxError{ZH: fmt.Sprintf("不支持坐标系 EPSG:%d", bb.SRID), EN: fmt.Sprintf("CRS EPSG:%d is not supported", bb.SRID)}
		}
	}
	d := c.Domain()
	for _, p := range [][2]float64{{bb.MinA1, bb.MinA2}, {bb.MaxA1, bb.MaxA2}} {
		east, north := p[0], p[1]
		if c.Axis == crs.NorthEast {
			east, north = north, east
		}
		if !d.Contains(east, north) {
			return &BBoxError{
				ZH: fmt.Sprintf("角点 (%s, %s) 不在 %s 的有效范围内（东 %s…%s %s，北 %s…%s %s；坐标轴顺序 %s）", g(p[0]), g(p[1]), c,
					g(math.Round(d.MinEast)), g(math.Round(d.MaxEast)), d.Unit, g(math.Round(d.MinNorth)), g(math.Round(d.MaxNorth)), d.Unit, c.Axis),
				EN: fmt.Sprintf("corner (%s, %s) is outside the domain of %s (east %s…%s %s, north %s…%s %s; axis order %s)", g(p[0]), g(p[1]), c,
					g(math.Round(d.MinEast)), g(math.Round(d.MaxEast)), d.Unit, g(math.Round(d.MinNorth)), g(math.Round(d.MaxNorth)), d.Unit, c.Axis),
			}
		}
	}
	return nil
}

// Equal is an attribute equality filter (?dlbm=0103): Value is already
// checked against the field's type.
type Equal struct {
	Field layers.Field
	Value any
}

// Sort is one sortby key.
type Sort struct {
	Field layers.Field
	Desc  bool
}

// Query is a parsed items request.
type Query struct {
	Layer *layers.Layer
	// BBox restricts features to those intersecting the box; nil for none.
	BBox *BBox
	// Limit and Offset page through the result in a stable order (the sort
	// keys, then feature id).
	Limit, Offset int
	// Properties are the fields to return; nil returns every field the
	// caller may see.
	Properties []layers.Field
	Equals     []Equal
	SortBy     []Sort
	// Where is an extra SQL predicate over the table alias t, built by the
	// CQL2 translator from catalog identifiers and bind parameters
	// (WhereArgs, numbered from $1 within the fragment as $W1, $W2 …).
	Where     string
	WhereArgs []any
	// OutputSRID is the EPSG code of the output coordinates; 0 is CRS84.
	OutputSRID int
	// IncludePersonal returns personal-data fields (never for anonymous
	// requests).
	IncludePersonal bool
	// AsOf, when set, reads the layer as it was at that instant
	// (datetime=, asof.go) instead of its current rows.
	AsOf *time.Time
}

// Page is the result of Items.
type Page struct {
	// Features are GeoJSON Feature objects, one per element.
	Features [][]byte
	// Matched is the number of features matching the query, or -1 when it
	// is above MatchCountCap.
	Matched int64
	// Version is the layer's data version (villageplan.layer_version).
	Version int64
	// UpdatedAt is when the layer last changed.
	UpdatedAt time.Time
	// HasNext reports whether features follow this page.
	HasNext bool
}

// VisibleFields returns the layer's fields that a caller may see.
func VisibleFields(l *layers.Layer, includePersonal bool) []layers.Field {
	out := make([]layers.Field, 0, len(l.Fields))
	for _, f := range l.Fields {
		if f.Personal && !includePersonal {
			continue
		}
		out = append(out, f)
	}
	return out
}

// args collects bind parameters and returns their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// geometryExpr returns the SQL expression of the feature geometry as
// GeoJSON text in the output CRS, with 8 decimals for degrees (about 1 mm)
// and 3 for metres.
func geometryExpr(srid int) string {
	switch srid {
	case 0:
		return "ST_AsGeoJSON(t.geom, 8, 0)"
	case layers.StorageSRID, 4326:
		return "ST_AsGeoJSON(ST_FlipCoordinates(t.geom), 8, 0)"
	case layers.TileSRID:
		return "ST_AsGeoJSON(t.geom_3857, 3, 0)"
	default:
		// Gauss-Krüger: northing, easting (EPSG axis order).
		return "ST_AsGeoJSON(ST_FlipCoordinates(ST_Transform(t.geom, " + strconv.Itoa(srid) + ")), 3, 0)"
	}
}

// featureExpr returns the SQL expression producing one GeoJSON Feature as
// text.
func featureExpr(l *layers.Layer, props []layers.Field, srid int) string {
	var b strings.Builder
	b.WriteString(`'{"type":"Feature","id":' || t.id || ',"geometry":' || `)
	b.WriteString(geometryExpr(srid))
	b.WriteString(` || ',"properties":' || `)
	if len(props) == 0 {
		b.WriteString(`'{}'`)
	} else {
		b.WriteString("json_build_object(")
		for i, f := range props {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(layers.QuoteLiteral(f.Name))
			b.WriteString(", t.")
			b.WriteString(layers.QuoteIdent(f.Name))
		}
		b.WriteString(")::text")
	}
	b.WriteString(` || '}'`)
	return b.String()
}

// where builds the WHERE clause of q.
func where(q *Query, a *args) string {
	var conds []string
	if q.BBox != nil {
		conds = append(conds, bboxCondition(q.BBox, a))
	}
	for _, e := range q.Equals {
		conds = append(conds, "t."+layers.QuoteIdent(e.Field.Name)+" = "+a.add(e.Value))
	}
	if q.Where != "" {
		frag := q.Where
		// Renumber $W1… to the positions after the arguments so far,
		// highest first so that $W1 does not clobber $W10.
		base := len(*a)
		for i := len(q.WhereArgs); i >= 1; i-- {
			frag = strings.ReplaceAll(frag, "$W"+strconv.Itoa(i), "$"+strconv.Itoa(base+i))
		}
		*a = append(*a, q.WhereArgs...)
		conds = append(conds, "("+frag+")")
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// bboxCondition selects features whose geometry intersects the box. A box
// in another CRS is densified and transformed to EPSG:4490 by PostGIS.
func bboxCondition(bb *BBox, a *args) string {
	minx, miny, maxx, maxy := bb.MinA1, bb.MinA2, bb.MaxA1, bb.MaxA2
	switch bb.SRID {
	case 0, layers.TileSRID:
	default:
		// EPSG:4490/4326 and the Gauss-Krüger codes list latitude or
		// northing first.
		minx, miny, maxx, maxy = bb.MinA2, bb.MinA1, bb.MaxA2, bb.MaxA1
	}
	var env string
	if bb.SRID == 0 || bb.SRID == layers.StorageSRID || bb.SRID == 4326 {
		env = fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s, %d)", a.add(minx), a.add(miny), a.add(maxx), a.add(maxy), layers.StorageSRID)
	} else {
		env = fmt.Sprintf("ST_Transform(ST_Segmentize(ST_MakeEnvelope(%s, %s, %s, %s, %d), %s), %d)",
			a.add(minx), a.add(miny), a.add(maxx), a.add(maxy), bb.SRID, a.add((maxx-minx)/16+(maxy-miny)/16+1e-9), layers.StorageSRID)
	}
	return "t.geom && " + env + " AND ST_Intersects(t.geom, " + env + ")"
}

func orderBy(q *Query) string {
	var b strings.Builder
	b.WriteString(" ORDER BY ")
	for _, s := range q.SortBy {
		b.WriteString("t.")
		b.WriteString(layers.QuoteIdent(s.Field.Name))
		if s.Desc {
			b.WriteString(" DESC NULLS LAST, ")
		} else {
			b.WriteString(" ASC NULLS FIRST, ")
		}
	}
	b.WriteString("t.id")
	return b.String()
}

const versionSQL = `SELECT coalesce((SELECT version FROM villageplan.layer_version WHERE layer = $1), 0),
	coalesce((SELECT updated_at FROM villageplan.layer_version WHERE layer = $1), 'epoch'::timestamptz)`

// Items runs q and returns one page. The layer version, the capped count
// and the features are fetched in one round trip (a pipelined batch).
func (s *Service) Items(ctx context.Context, q *Query) (*Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	props := q.Properties
	if props == nil {
		props = VisibleFields(q.Layer, q.IncludePersonal)
	}
	var wa args
	from := " FROM " + source(q, &wa)
	w := where(q, &wa)

	countSQL := "SELECT count(*) FROM (SELECT 1" + from + w + " LIMIT " + strconv.Itoa(MatchCountCap+1) + ") m"
	var ia args
	ia = append(ia, wa...)
	itemsSQL := "SELECT " + featureExpr(q.Layer, props, q.OutputSRID) + from + w + orderBy(q) +
		" LIMIT " + ia.add(q.Limit+1) + " OFFSET " + ia.add(q.Offset)

	batch := &pgx.Batch{}
	batch.Queue(versionSQL, q.Layer.ID)
	batch.Queue(countSQL, wa...)
	batch.Queue(itemsSQL, ia...)
	br := db.PoolFrom(ctx, s.pool).SendBatch(ctx, batch)
	defer br.Close()

	page := &Page{}
	if err := br.QueryRow().Scan(&page.Version, &page.UpdatedAt); err != nil {
		return nil, fmt.Errorf("layer %s version: %w", q.Layer.ID, err)
	}
	if err := br.QueryRow().Scan(&page.Matched); err != nil {
		return nil, fmt.Errorf("layer %s count: %w", q.Layer.ID, err)
	}
	if page.Matched > MatchCountCap {
		page.Matched = -1
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("layer %s items: %w", q.Layer.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		if len(page.Features) == q.Limit {
			page.HasNext = true
			continue
		}
		page.Features = append(page.Features, raw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("layer %s items: %w", q.Layer.ID, err)
	}
	return page, nil
}

// Feature returns one feature as GeoJSON with the layer version, or
// ErrNotFound.
func (s *Service) Feature(ctx context.Context, l *layers.Layer, id int64, outputSRID int, includePersonal bool) (feature []byte, version int64, updatedAt time.Time, err error) {
	sql := "SELECT " + featureExpr(l, VisibleFields(l, includePersonal), outputSRID) +
		", v.version, v.updated_at FROM " + l.QualifiedTable() +
		" t LEFT JOIN villageplan.layer_version v ON v.layer = $2 WHERE t.id = $1"
	var ver *int64
	var upd *time.Time
	err = db.PoolFrom(ctx, s.pool).QueryRow(ctx, sql, id, l.ID).Scan(&feature, &ver, &upd)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("layer %s feature %d: %w", l.ID, id, err)
	}
	if ver != nil {
		version = *ver
	}
	if upd != nil {
		updatedAt = *upd
	}
	return feature, version, updatedAt, nil
}

// Version returns the data version of a layer and when it last changed.
func (s *Service) Version(ctx context.Context, l *layers.Layer) (int64, time.Time, error) {
	var v int64
	var at time.Time
	err := db.PoolFrom(ctx, s.pool).QueryRow(ctx, versionSQL, l.ID).Scan(&v, &at)
	return v, at, err
}

// Extent is a layer's bounding box in CRS84 degrees and its feature count
// estimate.
type Extent struct {
	MinLon, MinLat, MaxLon, MaxLat float64
	Empty                          bool
}

// Extent returns the bounding box of a layer computed by PostGIS
// (ST_Extent over the stored EPSG:4490 geometry).
func (s *Service) Extent(ctx context.Context, l *layers.Layer) (Extent, error) {
	var e Extent
	var minx, miny, maxx, maxy *float64
	err := db.PoolFrom(ctx, s.pool).QueryRow(ctx, `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Extent(geom) AS b FROM `+
		l.QualifiedTable()+`) x`).Scan(&minx, &miny, &maxx, &maxy)
	if err != nil {
		return e, fmt.Errorf("layer %s extent: %w", l.ID, err)
	}
	if minx == nil {
		e.Empty = true
		return e, nil
	}
	e.MinLon, e.MinLat, e.MaxLon, e.MaxLat = *minx, *miny, *maxx, *maxy
	return e, nil
}

// Stream runs q without paging (Limit and Offset are ignored unless Limit
// > 0) and calls fn for each feature as it arrives from PostgreSQL, so a
// download of a whole layer needs memory for one feature at a time. The
// context cancels the query when the client goes away.
func (s *Service) Stream(ctx context.Context, q *Query, fn func(feature []byte) error) error {
	props := q.Properties
	if props == nil {
		props = VisibleFields(q.Layer, q.IncludePersonal)
	}
	var a args
	from := source(q, &a)
	w := where(q, &a)
	sql := "SELECT " + featureExpr(q.Layer, props, q.OutputSRID) + " FROM " + from + w + orderBy(q)
	if q.Limit > 0 {
		sql += " LIMIT " + a.add(q.Limit) + " OFFSET " + a.add(q.Offset)
	}
	rows, err := db.PoolFrom(ctx, s.pool).Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("layer %s: %w", q.Layer.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		raw := rows.RawValues()
		if err := fn(raw[0]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SVGMap is a page of features drawn by PostGIS as SVG path data in
// Web-Mercator metres (ST_AsSVG, y axis pointing down), for the HTML views.
// Coordinates are relative to the lower-left corner of the page's extent:
// browsers draw SVG in float32, too coarse for raw Mercator metres.
type SVGMap struct {
	// ViewBox is "minx miny width height" in the same units.
	ViewBox string
	// Paths maps a feature id to its SVG path data (or "cx cy" attributes
	// text for points, see IsPoint).
	Paths   map[int64]string
	IsPoint bool
	// Width is the map's width in metres (for a scale bar).
	Width float64
}

// ItemsSVG draws the features of one page of q (same filters, order, limit
// and offset as Items) as SVG. A feature with an EMPTY stored geometry
// (possible only where an administrator dropped the layer's CHECK
// constraints) has no path; the map is drawn without it.
func (s *Service) ItemsSVG(ctx context.Context, q *Query) (*SVGMap, error) {
	var a args
	from := source(q, &a)
	w := where(q, &a)
	sql := "WITH page AS (SELECT t.id, t.geom_3857 FROM " + from + w + orderBy(q) +
		" LIMIT " + a.add(max(q.Limit, 1)) + " OFFSET " + a.add(q.Offset) + `)
		SELECT id, ST_AsSVG(ST_Translate(geom_3857, -ST_XMin(e), -ST_YMin(e)), 0, 1),
		       0::float8, 0::float8, ST_XMax(e) - ST_XMin(e), ST_YMax(e) - ST_YMin(e)
		FROM page, (SELECT ST_Extent(geom_3857)::geometry AS e FROM page) x
		WHERE x.e IS NOT NULL AND NOT ST_IsEmpty(page.geom_3857)`
	rows, err := db.PoolFrom(ctx, s.pool).Query(ctx, sql, a...)
	if err != nil {
		return nil, fmt.Errorf("layer %s svg: %w", q.Layer.ID, err)
	}
	defer rows.Close()
	m := &SVGMap{Paths: map[int64]string{}, IsPoint: q.Layer.Geometry == layers.Point}
	var minx, miny, maxx, maxy float64
	for rows.Next() {
		var id int64
		var path string
		if err := rows.Scan(&id, &path, &minx, &miny, &maxx, &maxy); err != nil {
			return nil, err
		}
		m.Paths[id] = path
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(m.Paths) == 0 {
		return m, nil
	}
	pad := math.Max(math.Max(maxx-minx, maxy-miny)*0.05, 20)
	m.Width = maxx - minx + 2*pad
	m.ViewBox = fmt.Sprintf("%.1f %.1f %.1f %.1f", minx-pad, -maxy-pad, m.Width, maxy-miny+2*pad)
	return m, nil
}

// IsSample reports whether the layer's content is the generated sample
// data (villageplan.layer_metadata.is_sample).
func (s *Service) IsSample(ctx context.Context, l *layers.Layer) (bool, error) {
	var sample bool
	err := db.PoolFrom(ctx, s.pool).QueryRow(ctx, `SELECT coalesce((SELECT is_sample FROM villageplan.layer_metadata WHERE layer = $1), false)`, l.ID).Scan(&sample)
	return sample, err
}

// WhereClause returns the WHERE clause of q over table alias t (" WHERE …",
// or "" without conditions), appending its bind parameters to params and
// numbering them after those already there. Exports use it so that a
// download selects exactly what the items query selects.
func (q *Query) WhereClause(params *[]any) string {
	a := args(*params)
	w := where(q, &a)
	*params = a
	return w
}

// OrderClause returns the ORDER BY clause of q over alias t: the sort keys,
// then the feature id, so paging and exports are stable.
func (q *Query) OrderClause() string { return orderBy(q) }

// ParseValue converts a value given as text (a query-string parameter, a
// --where flag) to the Go type bound for the field: int32, float64, bool,
// time.Time for dates (YYYY-MM-DD), or the string itself for text. The
// error says what was expected.
func ParseValue(f layers.Field, s string) (any, error) {
	switch f.Type {
	case layers.Integer:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return int32(n), nil
	case layers.Real:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return x, nil
	case layers.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case layers.Date:
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
		}
		return d, nil
	}
	return s, nil
}
