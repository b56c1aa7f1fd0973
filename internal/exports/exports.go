// Package exports writes a layer, or the features of a query on it, in the
// file formats GIS analysts and Chinese land administration exchange:
// GeoJSON, GeoPackage, Shapefile (zipped with .prj and .cpg), CSV with WKT,
// KML and 界址点坐标 TXT.
//
// The writers are shared by the CLI (villageplan export) and the features
// API downloads: Write takes a *features.Query (layer, bbox, attribute
// filters, CQL2 predicate, output CRS, personal-data switch) and streams
// the file to an io.Writer. GeoJSON, CSV, KML and 界址点 TXT are written as
// rows arrive from PostgreSQL (memory for one feature at a time); Shapefile
// and GeoPackage are built in a temporary folder (their writers seek) and
// then copied to the writer.
//
// PostGIS does the spatial work: reprojection (ST_Transform), WKB/WKT/GeoJSON
// output, ring orientation, bounding boxes and 界址点 areas on the
// Gauss-Krüger plane. Go only encodes formats.
package exports

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
	"villageplan/internal/features"
	"villageplan/layers"
)

// Format is an export file format.
type Format string

// Export formats.
const (
	GeoJSON    Format = "geojson"
	GeoPackage Format = "gpkg"
	Shapefile  Format = "shp"
	CSV        Format = "csv"
	KML        Format = "kml"
	JZD        Format = "jzd"
)

// Formats lists every format.
func Formats() []Format { return []Format{GeoJSON, GeoPackage, Shapefile, CSV, KML, JZD} }

// ParseFormat accepts a format name (also "shapefile", "geopackage", "json",
// "txt").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "geojson", "json":
		return GeoJSON, nil
	case "gpkg", "geopackage":
		return GeoPackage, nil
	case "shp", "shapefile", "zip":
		return Shapefile, nil
	case "csv":
		return CSV, nil
	case "kml":
		return KML, nil
	case "jzd", "txt":
		return JZD, nil
	}
	return "", fmt.Errorf("unknown export format %q: use geojson, gpkg, shp, csv, kml or jzd", s)
}

// ContentType is the media type of the format for HTTP downloads in the
// format's default encoding (see ContentTypeFor).
func (f Format) ContentType() string {
	enc, _ := ResolveEncoding(f, "")
	return f.ContentTypeFor(enc)
}

// ContentTypeFor is the media type of the format for HTTP downloads whose
// text is in enc (exchange.UTF8 or exchange.GBK, as ResolveEncoding
// returns): the text formats CSV and 界址点 TXT carry the charset
// ("utf-8" or "GBK", the IANA names); the others are UTF-8 by definition
// (GeoJSON, KML) or binary (GeoPackage, the Shapefile zip, whose .cpg
// names the DBF encoding).
func (f Format) ContentTypeFor(enc string) string {
	charset := "utf-8"
	if enc == exchange.GBK {
		charset = "GBK"
	}
	switch f {
	case GeoJSON:
		return "application/geo+json"
	case GeoPackage:
		return "application/geopackage+sqlite3"
	case Shapefile:
		return "application/zip"
	case CSV:
		return "text/csv; charset=" + charset
	case KML:
		return "application/vnd.google-earth.kml+xml"
	case JZD:
		return "text/plain; charset=" + charset
	}
	return "application/octet-stream"
}

// ResolveEncoding returns the text encoding an export in format f writes
// when asked for enc ("" for the default): exchange.UTF8 or exchange.GBK
// (GB18030 is written as GBK). The default is UTF-8, except 界址点 TXT
// (GBK, as the receiving Windows tools expect); GeoJSON, GeoPackage and KML
// are always UTF-8. Errors: an unknown encoding name.
func ResolveEncoding(f Format, enc string) (string, error) {
	out := exchange.UTF8
	if f == JZD {
		out = exchange.GBK
	}
	if enc != "" {
		e, err := exchange.NormalizeEncoding(enc)
		if err != nil {
			return "", err
		}
		if e == exchange.GB18030 {
			e = exchange.GBK
		}
		out = e
	}
	if f == GeoJSON || f == GeoPackage || f == KML {
		out = exchange.UTF8
	}
	return out, nil
}

// EncodingError is returned by Write, before anything is written, when a
// text value of the selected features cannot be written in the requested
// encoding (GBK has no emoji, no CJK Extension B characters such as 𠀀, …).
// It names the first such value: feature id, field and character.
type EncodingError struct {
	Encoding  string
	FeatureID int64
	Field     string
	Value     string // the whole value, cut to 60 characters
	Char      rune
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("要素 %d 的字段 %s（%q）含有 %s 无法表示的字符 %q（U+%04X），请改用 UTF-8 编码导出或更正数据。 "+
		"feature %d, field %s: %q holds the character %q (U+%04X), which %s cannot represent; export in UTF-8 or correct the data",
		e.FeatureID, e.Field, e.Value, e.Encoding, e.Char, e.Char, e.FeatureID, e.Field, e.Value, e.Char, e.Char, e.Encoding)
}

// Extension is the file extension of the format (".zip" for Shapefile).
func (f Format) Extension() string {
	switch f {
	case Shapefile:
		return ".zip"
	case JZD:
		return ".txt"
	}
	return "." + string(f)
}

// Streams reports whether the format is written as rows arrive (true) or
// built in a temporary file first (Shapefile, GeoPackage).
func (f Format) Streams() bool { return f != Shapefile && f != GeoPackage }

// Options control an export.
type Options struct {
	// Encoding of the text in Shapefile DBFs, CSV and 界址点 TXT: "UTF-8"
	// or "GBK". Default: UTF-8, except 界址点 TXT (GBK, as the receiving
	// Windows tools expect). GeoJSON, GeoPackage and KML are always UTF-8.
	Encoding string
	// Name is the dataset name (GeoPackage table, files inside the
	// Shapefile zip); default the layer ID.
	Name string
	// TempDir holds the temporary files of Shapefile and GeoPackage
	// exports (default os.TempDir()).
	TempDir string
	// Producer fills 数据产生单位 of 界址点 TXT (default "villageplan").
	Producer string
}

// Result reports an export.
type Result struct {
	Format   Format
	Features int
	// EPSG is the CRS of the coordinates written (4326 for CRS84).
	EPSG int
	// Encoding is the text encoding written.
	Encoding string
	// Omitted lists the personal-data fields left out (DESIGN: only with
	// IncludePersonal are they exported).
	Omitted []string
	// Warnings lists values that had to be cut or changed (a DBF text
	// field holds at most 254 bytes).
	Warnings []string
}

// Write exports the features selected by q in format to w. q.Layer,
// q.BBox, q.Equals, q.Where and q.SortBy select and order the features
// (q.Limit > 0 limits them, with q.Offset); q.Properties chooses fields
// (default: every field, personal-data fields only with
// q.IncludePersonal). q.OutputSRID is the output CRS, 0 for the format's
// default: CRS84 for GeoJSON and CSV, EPSG:4490 for GeoPackage and
// Shapefile, EPSG:4326 for KML (the only CRS KML allows), and for 界址点 TXT
// the CGCS2000 3-degree Gauss-Krüger zone (with zone number) of the
// features' median longitude (of their box centres). Coordinates are
// written easting/longitude first in every format except 界址点 TXT (X =
// northing, as the format requires). A feature with an EMPTY stored
// geometry (possible only where the layer's CHECK constraints were
// dropped) is written as an empty or NULL geometry, except in 界址点 TXT,
// which cannot hold one: the export then fails naming the feature.
//
// Errors: an unsupported CRS for the format (KML other than 4326, 界址点 TXT
// other than a Gauss-Krüger code or on a layer that is not a polygon
// layer), a bad encoding, text that GBK cannot represent, database and
// write errors. Nothing has been written to w when an error is returned
// for a bad request; a database error mid-stream leaves a partial file.
func Write(ctx context.Context, pool *pgxpool.Pool, format Format, q *features.Query, opts Options, w io.Writer) (*Result, error) {
	if q == nil || q.Layer == nil {
		return nil, fmt.Errorf("export: no layer")
	}
	enc, err := ResolveEncoding(format, opts.Encoding)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = q.Layer.ID
	}
	res := &Result{Format: format, Encoding: enc}
	for _, f := range q.Layer.Fields {
		if f.Personal && !q.IncludePersonal {
			res.Omitted = append(res.Omitted, f.Name)
		}
	}
	e := &exporter{pool: pool, q: q, opts: opts, enc: enc, res: res}
	e.fields = q.Properties
	if e.fields == nil {
		e.fields = features.VisibleFields(q.Layer, q.IncludePersonal)
	}
	if enc == exchange.GBK && (format == CSV || format == Shapefile || format == JZD) {
		// Decided before the first byte: a character GBK cannot hold is
		// an error naming the feature, never a file cut short.
		if err := e.checkEncodable(ctx, format); err != nil {
			return res, err
		}
	}
	switch format {
	case GeoJSON:
		err = e.geojson(ctx, w)
	case CSV:
		err = e.csv(ctx, w)
	case KML:
		err = e.kml(ctx, w)
	case Shapefile:
		err = e.shapefile(ctx, w)
	case GeoPackage:
		err = e.gpkg(ctx, w)
	case JZD:
		err = e.jzd(ctx, w)
	default:
		err = fmt.Errorf("unknown export format %q", format)
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

type exporter struct {
	pool   *pgxpool.Pool
	q      *features.Query
	opts   Options
	enc    string
	res    *Result
	fields []layers.Field
}

// outputSRID returns the EPSG code to write, given the format's default.
func (e *exporter) outputSRID(def int) (int, error) {
	srid := e.q.OutputSRID
	if srid == 0 {
		srid = def
	}
	if _, ok := crs.Lookup(srid); !ok {
		return 0, fmt.Errorf("export: EPSG:%d is not a supported output CRS (supported: 4326, 4490, 3857, 4491–4554)", srid)
	}
	e.res.EPSG = srid
	return srid, nil
}

// geomSQL is the stored geometry in the output CRS. WGS 84 and CGCS2000
// longitude/latitude are written unchanged (they agree to centimetres, as in
// the features API).
func geomSQL(srid int) string {
	switch srid {
	case 0, 4326, layers.StorageSRID:
		return "t.geom"
	case layers.TileSRID:
		return "t.geom_3857"
	}
	return "ST_Transform(t.geom, " + strconv.Itoa(srid) + ")"
}

// args collects bind parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// whereSQL is the items query's WHERE clause (see features.Query.WhereClause).
func whereSQL(q *features.Query, a *args) string {
	p := []any(*a)
	w := q.WhereClause(&p)
	*a = p
	return w
}

// fromSQL is the items query's FROM item over alias t: the layer table, or
// the layer as of q.AsOf (see features.Query.FromClause); before whereSQL.
func fromSQL(q *features.Query, a *args) string {
	p := []any(*a)
	f := q.FromClause(&p)
	*a = p
	return f
}

func orderSQL(q *features.Query) string { return q.OrderClause() }

// query runs "SELECT t.id, <extra…>, <fields…> FROM layer t WHERE … ORDER
// BY …" and calls fn with the id, the extra values and the field values
// (string, int32, float64, time.Time, bool or nil) of each row.
func (e *exporter) query(ctx context.Context, extra []string, fn func(id int64, extra []any, vals []any) error) error {
	return e.queryFields(ctx, extra, e.fields, fn)
}

// queryFields is query with an explicit field list.
func (e *exporter) queryFields(ctx context.Context, extra []string, fields []layers.Field, fn func(id int64, extra []any, vals []any) error) error {
	var a args
	cols := []string{"t.id"}
	cols = append(cols, extra...)
	for _, f := range fields {
		cols = append(cols, "t."+layers.QuoteIdent(f.Name))
	}
	from := fromSQL(e.q, &a)
	w := whereSQL(e.q, &a)
	sql := "SELECT " + strings.Join(cols, ", ") + " FROM " + from + w + orderSQL(e.q)
	if e.q.Limit > 0 {
		sql += " LIMIT " + a.add(e.q.Limit) + " OFFSET " + a.add(e.q.Offset)
	}
	rows, err := e.pool.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("export %s: %w", e.q.Layer.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return err
		}
		id, _ := v[0].(int64)
		if err := fn(id, v[1:1+len(extra)], v[1+len(extra):]); err != nil {
			return err
		}
		e.res.Features++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export %s: %w", e.q.Layer.ID, err)
	}
	return nil
}

// aggregate runs one aggregate row over the selected features (for
// extents and text widths) and scans it into dest.
func (e *exporter) aggregate(ctx context.Context, exprs []string, dest ...any) error {
	var a args
	from := fromSQL(e.q, &a)
	sql := "SELECT " + strings.Join(exprs, ", ") + " FROM (SELECT t.* FROM " + from + whereSQL(e.q, &a) + orderSQL(e.q)
	if e.q.Limit > 0 {
		sql += " LIMIT " + a.add(e.q.Limit) + " OFFSET " + a.add(e.q.Offset)
	}
	sql += ") t"
	return e.pool.QueryRow(ctx, sql, a...).Scan(dest...)
}

// checkEncodable reads the text fields that format writes for the selected
// features and returns an *EncodingError for the first value (by the
// export's order) that e.enc cannot represent. It costs one extra read of
// those fields, paid only by GBK exports.
func (e *exporter) checkEncodable(ctx context.Context, format Format) error {
	fields := e.fields
	if format == JZD {
		fields = nil
		for _, r := range []exchange.ParcelRole{exchange.RoleNumber, exchange.RoleName, exchange.RoleUse, exchange.RoleDLBM} {
			if f, ok := exchange.ParcelField(e.q.Layer, r); ok {
				fields = append(fields, f)
			}
		}
	}
	var text []layers.Field
	for _, f := range fields {
		if f.Type == layers.Text {
			text = append(text, f)
		}
	}
	if len(text) == 0 {
		return nil
	}
	n := e.res.Features
	defer func() { e.res.Features = n }()
	return e.queryFields(ctx, nil, text, func(id int64, _ []any, vals []any) error {
		for i, v := range vals {
			s, _ := v.(string)
			if _, err := exchange.Encode(e.enc, s); err != nil {
				ee := &EncodingError{Encoding: e.enc, FeatureID: id, Field: text[i].Name, Value: s, Char: utf8.RuneError}
				if r := []rune(s); len(r) > 60 {
					ee.Value = string(r[:60]) + "…"
				}
				for _, r := range s {
					if _, err := exchange.Encode(e.enc, string(r)); err != nil {
						ee.Char = r
						break
					}
				}
				return ee
			}
		}
		return nil
	})
}
