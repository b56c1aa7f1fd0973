package exports

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	shp "github.com/jonas-p/go-shp"
	"github.com/paulmach/orb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
	"villageplan/layers"
)

// DBF text limit in bytes.
const dbfTextBytes = 254

// shapefile writes a zip with <name>.shp/.shx/.dbf/.prj/.cpg, using
// github.com/jonas-p/go-shp for the geometry files. Points stay Point,
// MultiLineString becomes PolyLine and MultiPolygon becomes Polygon with
// outer rings clockwise and holes counter-clockwise (ST_ForcePolygonCW), as
// the ESRI specification requires. DBF: text C(n) with n the longest value
// in bytes (at most 254; longer values are cut at a character boundary and
// reported), integers N(11,0), reals N(24,10), dates D, booleans L; field
// names from exchange.DBFNames; language driver 0x4D and .cpg "GBK" for GBK, .cpg
// "UTF-8" for UTF-8. The .prj is the ESRI WKT ArcGIS writes
// (crs.ESRIWKT, e.g. CGCS2000_3_Degree_GK_Zone_42).
func (e *exporter) shapefile(ctx context.Context, w io.Writer) error {
	srid, err := e.outputSRID(layers.StorageSRID)
	if err != nil {
		return err
	}
	prj, err := crs.ESRIWKT(srid)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(e.opts.TempDir, "villageplan-shp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, e.opts.Name)

	// Text widths from the data.
	widths := make([]int, len(e.fields))
	var exprs []string
	var textIdx []int
	for i, f := range e.fields {
		if f.Type == layers.Text {
			exprs = append(exprs, "coalesce(max(octet_length(t."+layers.QuoteIdent(f.Name)+")), 1)")
			textIdx = append(textIdx, i)
		}
	}
	if len(exprs) > 0 {
		dest := make([]any, len(exprs))
		got := make([]int32, len(exprs))
		for i := range dest {
			dest[i] = &got[i]
		}
		if err := e.aggregate(ctx, exprs, dest...); err != nil {
			return fmt.Errorf("export %s: %w", e.q.Layer.ID, err)
		}
		for k, i := range textIdx {
			// UTF-8 bytes bound GBK bytes from above.
			widths[i] = min(max(int(got[k]), 1), dbfTextBytes)
		}
	}

	var shapeType shp.ShapeType
	switch e.q.Layer.Geometry {
	case layers.Point:
		shapeType = shp.POINT
	case layers.MultiLineString:
		shapeType = shp.POLYLINE
	default:
		shapeType = shp.POLYGON
	}
	sw, err := shp.Create(base+".shp", shapeType)
	if err != nil {
		return err
	}
	names := exchange.DBFNames(e.fields)
	dbf := make([]shp.Field, len(e.fields))
	for i, f := range e.fields {
		switch f.Type {
		case layers.Integer:
			dbf[i] = shp.NumberField(names[i], 11)
		case layers.Real:
			dbf[i] = shp.FloatField(names[i], 24, 10)
		case layers.Date:
			dbf[i] = shp.DateField(names[i])
		case layers.Bool:
			dbf[i] = shp.Field{Fieldtype: 'L', Size: 1}
			copy(dbf[i].Name[:], names[i])
		default:
			dbf[i] = shp.StringField(names[i], uint8(widths[i]))
		}
	}
	if err := sw.SetFields(dbf); err != nil {
		sw.Close()
		return err
	}
	cut := map[string]int{}
	err = e.query(ctx, []string{"ST_AsBinary(ST_ForcePolygonCW(" + geomSQL(srid) + "), 'NDR')"}, func(id int64, extra, vals []any) error {
		b, _ := extra[0].([]byte)
		g, err := orbwkb.Unmarshal(b)
		if err != nil {
			return fmt.Errorf("feature %d: %w", id, err)
		}
		row := int(sw.Write(toShape(g)))
		for i, v := range vals {
			s, err := dbfValue(dbf[i], v, e.enc)
			if err != nil {
				return fmt.Errorf("feature %d, field %s: %w", id, e.fields[i].Name, err)
			}
			if len(s) > int(dbf[i].Size) {
				fit, _, err := exchange.FitBytes(e.enc, v.(string), int(dbf[i].Size))
				if err != nil {
					return err
				}
				s = string(fit) + strings.Repeat(" ", int(dbf[i].Size)-len(fit))
				cut[e.fields[i].Name]++
			}
			if err := sw.WriteAttribute(row, i, s); err != nil {
				return fmt.Errorf("feature %d, field %s: %w", id, e.fields[i].Name, err)
			}
		}
		return nil
	})
	sw.Close()
	if err != nil {
		return err
	}
	// go-shp v0.1.1 names the DBF "<base>dbf" (no dot) when given a .shp
	// name; put it where readers look.
	if _, serr := os.Stat(base + "dbf"); serr == nil {
		if err := os.Rename(base+"dbf", base+".dbf"); err != nil {
			return err
		}
	}
	for f, n := range cut {
		e.res.Warnings = append(e.res.Warnings, fmt.Sprintf("field %s: %d value(s) longer than the %d bytes a DBF field holds were cut", f, n, dbfTextBytes))
	}
	if err := setLanguageDriver(base+".dbf", e.enc); err != nil {
		return err
	}
	if err := os.WriteFile(base+".prj", []byte(prj), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".cpg", []byte(exchange.CPG(e.enc)), 0o644); err != nil {
		return err
	}

	zw := zip.NewWriter(w)
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		if err := addToZip(zw, base+ext, e.opts.Name+ext); err != nil {
			return err
		}
	}
	return zw.Close()
}

func addToZip(zw *zip.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()}
	hdr.Flags |= 0x800 // UTF-8 file names
	zf, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(zf, f)
	return err
}

// setLanguageDriver writes byte 29 of the DBF header: 0x4D (code page 936)
// for GBK, 0 for UTF-8 (which has no language-driver ID; the .cpg says it).
// go-shp writes 0 there.
// It also sets the date of last update (bytes 1–3), which go-shp leaves at
// 1924-05-03.
func setLanguageDriver(path, enc string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err := f.WriteAt([]byte{byte(now.Year() - 1900), byte(now.Month()), byte(now.Day())}, 1); err != nil {
		f.Close()
		return err
	}
	if enc == exchange.GBK {
		if _, err := f.WriteAt([]byte{exchange.LDIDGBK}, 29); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// dbfValue renders one DBF value as the bytes to store: text in the
// export encoding (left-aligned, space-padded by the reader's trimming),
// numbers right-aligned, NULL as blanks.
func dbfValue(f shp.Field, v any, enc string) (string, error) {
	size := int(f.Size)
	if v == nil {
		return strings.Repeat(" ", size), nil
	}
	switch f.Fieldtype {
	case 'C':
		b, err := exchange.Encode(enc, formatValue(v))
		if err != nil {
			return "", err
		}
		if len(b) < size {
			b = append(b, []byte(strings.Repeat(" ", size-len(b)))...)
		}
		return string(b), nil
	case 'N', 'F':
		var s string
		switch t := v.(type) {
		case float64:
			s = strconv.FormatFloat(t, 'f', int(f.Precision), 64)
		default:
			s = formatValue(v)
		}
		if len(s) > size {
			return "", fmt.Errorf("%s does not fit N(%d,%d)", s, size, f.Precision)
		}
		return fmt.Sprintf("%*s", size, s), nil
	case 'D':
		t, ok := v.(time.Time)
		if !ok {
			return strings.Repeat(" ", size), nil
		}
		return t.Format("20060102"), nil
	case 'L':
		if b, ok := v.(bool); ok && b {
			return "T", nil
		}
		return "F", nil
	}
	return formatValue(v), nil
}

// toShape converts a WKB-decoded geometry to a go-shp shape.
func toShape(g orb.Geometry) shp.Shape {
	conv := func(ps []orb.Point) []shp.Point {
		out := make([]shp.Point, len(ps))
		for i, p := range ps {
			out[i] = shp.Point{X: p[0], Y: p[1]}
		}
		return out
	}
	switch t := g.(type) {
	case orb.Point:
		return &shp.Point{X: t[0], Y: t[1]}
	case orb.MultiLineString:
		var parts [][]shp.Point
		for _, l := range t {
			parts = append(parts, conv(l))
		}
		return shp.NewPolyLine(parts)
	case orb.LineString:
		return shp.NewPolyLine([][]shp.Point{conv(t)})
	case orb.MultiPolygon:
		var parts [][]shp.Point
		for _, p := range t {
			for _, r := range p {
				parts = append(parts, conv(r))
			}
		}
		pl := shp.NewPolyLine(parts)
		pg := shp.Polygon(*pl)
		return &pg
	case orb.Polygon:
		var parts [][]shp.Point
		for _, r := range t {
			parts = append(parts, conv(r))
		}
		pl := shp.NewPolyLine(parts)
		pg := shp.Polygon(*pl)
		return &pg
	}
	return &shp.Null{}
}
