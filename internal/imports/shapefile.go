package imports

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	shp "github.com/jonas-p/go-shp"
	"github.com/paulmach/orb"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
)

// shapefileSource reads a Shapefile (.shp/.shx/.dbf with optional .prj and
// .cpg) with github.com/jonas-p/go-shp. Text is decoded in the encoding
// named by, in order: the .cpg, the DBF language-driver byte (0x4D =
// CP936/GBK), --encoding, else detected from the text itself (valid UTF-8
// or GB18030); FileInfo says which.
type shapefileSource struct {
	r      *shp.Reader
	size   int64
	info   FileInfo
	fields []shp.Field
	names  []string
	enc    string
	row    int
	hasZ   bool
}

func sidecar(base, ext string) string {
	for _, e := range []string{ext, strings.ToUpper(ext)} {
		p := base + e
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func openShapefile(path string, ro readerOptions) (source, error) {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	shpPath := sidecar(base, ".shp")
	dbfPath := sidecar(base, ".dbf")
	if shpPath == "" || dbfPath == "" {
		return nil, fmt.Errorf("%s: a shapefile needs its .shp and .dbf side by side (found .shp: %v, .dbf: %v)", path, shpPath != "", dbfPath != "")
	}
	if strings.ToLower(filepath.Ext(shpPath)) != ".shp" || filepath.Ext(dbfPath) != ".dbf" {
		return nil, fmt.Errorf("%s: rename the files to lower-case extensions (.shp, .shx, .dbf)", path)
	}
	st, err := os.Stat(shpPath)
	if err != nil {
		return nil, err
	}
	r, err := shp.Open(shpPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shpPath, err)
	}
	s := &shapefileSource{r: r, size: st.Size()}
	s.info = FileInfo{Path: shpPath, Format: FormatShapefile}
	switch r.GeometryType {
	case shp.POINTZ, shp.POLYLINEZ, shp.POLYGONZ, shp.MULTIPOINTZ, shp.POINTM, shp.POLYLINEM, shp.POLYGONM, shp.MULTIPOINTM:
		s.hasZ = true
	}

	// CRS from the .prj.
	if prj := sidecar(base, ".prj"); prj != "" {
		b, err := os.ReadFile(prj)
		if err != nil {
			return nil, err
		}
		s.info.crsFound = ".prj " + strconv.Quote(prjName(string(b)))
		code, err := crs.FromPRJ(string(b))
		if err != nil {
			s.info.crsErr = err
		} else {
			s.info.EPSG = code
			s.info.CRSFrom = ".prj " + strconv.Quote(prjName(string(b)))
		}
	} else {
		s.info.crsFound = "no .prj file"
		s.info.crsErr = fmt.Errorf("the shapefile has no .prj, so its coordinate system is unknown")
	}

	// Encoding.
	ldid, _ := dbfLanguageDriver(dbfPath)
	s.fields = r.Fields()
	if cpg := sidecar(base, ".cpg"); cpg != "" {
		b, _ := os.ReadFile(cpg)
		if e, ok := exchange.FromCPG(b); ok {
			s.enc, s.info.EncodingFrom = e, fmt.Sprintf(".cpg (%q)", strings.TrimSpace(string(b)))
		} else {
			s.info.Warnings = append(s.info.Warnings, fmt.Sprintf(".cpg names code page %q, which cannot hold Chinese text; ignored", strings.TrimSpace(string(b))))
		}
	}
	if s.enc == "" {
		if e, ok := exchange.FromLDID(ldid); ok {
			s.enc, s.info.EncodingFrom = e, fmt.Sprintf("DBF language driver 0x%02X (code page 936)", ldid)
		}
	}
	if s.enc == "" && ro.encoding != "" {
		s.enc, s.info.EncodingFrom = ro.encoding, "--encoding"
	}
	if s.enc == "" {
		s.enc = s.detectEncoding()
		s.info.EncodingFrom = fmt.Sprintf("detected from the text (no .cpg, DBF language driver 0x%02X, no --encoding)", ldid)
	} else if ro.encoding != "" && ro.encoding != s.enc {
		s.info.Warnings = append(s.info.Warnings, fmt.Sprintf("--encoding %s ignored: the file says %s (%s)", ro.encoding, s.enc, s.info.EncodingFrom))
	}
	s.info.Encoding = s.enc
	for _, f := range s.fields {
		raw := f.Name[:]
		if i := indexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		name, err := exchange.Decode(s.enc, raw)
		if err != nil {
			name = string(raw)
		}
		s.names = append(s.names, strings.TrimSpace(name))
	}
	s.info.Fields = s.names
	return s, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// prjName returns the outermost name of a WKT string for messages.
func prjName(wkt string) string {
	i := strings.IndexByte(wkt, '"')
	if i < 0 {
		return strings.TrimSpace(wkt)
	}
	j := strings.IndexByte(wkt[i+1:], '"')
	if j < 0 {
		return wkt[i+1:]
	}
	return wkt[i+1 : i+1+j]
}

// dbfLanguageDriver reads byte 29 of the DBF header.
func dbfLanguageDriver(path string) (byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b := make([]byte, 32)
	if _, err := io.ReadFull(f, b); err != nil {
		return 0, err
	}
	return b[29], nil
}

// detectEncoding looks at the field names and every character field of up
// to 10 000 records.
func (s *shapefileSource) detectEncoding() string {
	var samples [][]byte
	for _, f := range s.fields {
		samples = append(samples, f.Name[:])
	}
	n := min(s.r.AttributeCount(), 10000)
	for row := 0; row < n; row++ {
		for i, f := range s.fields {
			if f.Fieldtype == 'C' {
				samples = append(samples, []byte(s.r.ReadAttribute(row, i)))
			}
		}
	}
	return exchange.Detect(samples...)
}

func (s *shapefileSource) Info() *FileInfo { return &s.info }
func (s *shapefileSource) Size() int64     { return s.size }
func (s *shapefileSource) BytesRead() int64 {
	return s.size * int64(s.row) / int64(max(s.r.AttributeCount(), 1))
}
func (s *shapefileSource) Close() error { return s.r.Close() }

func (s *shapefileSource) Next() (*Feature, error) {
	if !s.r.Next() {
		if err := s.r.Err(); err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", s.info.Path, s.row+1, err)
		}
		return nil, io.EOF
	}
	row, shape := s.r.Shape()
	s.row = row + 1
	s.info.Features++
	f := &Feature{Index: row + 1, DeclaredAreaM2: math.NaN(), HasZ: s.hasZ, Props: make(map[string]any, len(s.fields))}
	for i, fd := range s.fields {
		raw := s.r.ReadAttribute(row, i)
		v, err := s.value(fd, raw)
		if err != nil {
			f.Problem = fmt.Sprintf("field %s: %v", s.names[i], err)
		}
		f.Props[s.names[i]] = v
	}
	g, rings, problem := shapeGeometry(shape)
	f.Geom, f.Rings = g, rings
	if problem != "" {
		f.Problem = problem
	}
	return f, nil
}

// value converts one DBF value: C text in the file's encoding, N/F
// numbers (int64 without decimals, float64 with), D dates (YYYYMMDD), L
// logicals. Blank values and "*"-filled numbers are nil.
func (s *shapefileSource) value(fd shp.Field, raw string) (any, error) {
	raw = strings.TrimRight(raw, "\x00")
	t := strings.TrimSpace(raw)
	switch fd.Fieldtype {
	case 'C', 'M':
		if t == "" {
			return nil, nil
		}
		return exchange.Decode(s.enc, []byte(t))
	case 'N', 'F':
		if t == "" || strings.Trim(t, "*") == "" {
			return nil, nil
		}
		if fd.Precision == 0 {
			if n, err := strconv.ParseInt(t, 10, 64); err == nil {
				return n, nil
			}
		}
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", t)
		}
		return v, nil
	case 'D':
		if t == "" || strings.Trim(t, "0") == "" {
			return nil, nil
		}
		d, err := time.Parse("20060102", t)
		if err != nil {
			return nil, fmt.Errorf("%q is not a DBF date (YYYYMMDD)", t)
		}
		return d, nil
	case 'L':
		switch strings.ToUpper(t) {
		case "T", "Y":
			return true, nil
		case "F", "N":
			return false, nil
		}
		return nil, nil
	}
	if t == "" {
		return nil, nil
	}
	return exchange.Decode(s.enc, []byte(t))
}

// shapeGeometry converts a shapefile record. Polygon records become a
// MultiPolygon of single rings with rings=true: the shapefile lists the
// rings of every part in one sequence, and PostGIS decides which ring is a
// hole of which outer ring (containment), so a multipart record in a
// "Polygon" shapefile becomes a MultiPolygon.
func shapeGeometry(s shp.Shape) (g orb.Geometry, rings bool, problem string) {
	pts := func(ps []shp.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = orb.Point{p.X, p.Y}
		}
		return out
	}
	parts := func(partIdx []int32, ps []shp.Point) [][]orb.Point {
		var out [][]orb.Point
		for i, start := range partIdx {
			end := int32(len(ps))
			if i+1 < len(partIdx) {
				end = partIdx[i+1]
			}
			if start < 0 || start > end || int(end) > len(ps) {
				return nil
			}
			out = append(out, pts(ps[start:end]))
		}
		return out
	}
	switch t := s.(type) {
	case *shp.Null:
		return nil, false, "has no geometry (null shape)"
	case *shp.Point:
		return orb.Point{t.X, t.Y}, false, ""
	case *shp.PointZ:
		return orb.Point{t.X, t.Y}, false, ""
	case *shp.PointM:
		return orb.Point{t.X, t.Y}, false, ""
	case *shp.MultiPoint:
		return orb.MultiPoint(pts(t.Points)), false, ""
	case *shp.MultiPointZ:
		return orb.MultiPoint(pts(t.Points)), false, ""
	case *shp.MultiPointM:
		return orb.MultiPoint(pts(t.Points)), false, ""
	case *shp.PolyLine:
		return lines(parts(t.Parts, t.Points)), false, ""
	case *shp.PolyLineZ:
		return lines(parts(t.Parts, t.Points)), false, ""
	case *shp.PolyLineM:
		return lines(parts(t.Parts, t.Points)), false, ""
	case *shp.Polygon:
		return ringSet(parts(t.Parts, t.Points))
	case *shp.PolygonZ:
		return ringSet(parts(t.Parts, t.Points))
	case *shp.PolygonM:
		return ringSet(parts(t.Parts, t.Points))
	}
	return nil, false, fmt.Sprintf("has an unsupported shape type %T", s)
}

func lines(ps [][]orb.Point) orb.Geometry {
	ml := make(orb.MultiLineString, len(ps))
	for i, p := range ps {
		ml[i] = orb.LineString(p)
	}
	return ml
}

func ringSet(ps [][]orb.Point) (orb.Geometry, bool, string) {
	if len(ps) == 0 {
		return nil, false, "has a polygon without rings"
	}
	mp := make(orb.MultiPolygon, len(ps))
	for i, p := range ps {
		mp[i] = orb.Polygon{orb.Ring(p)}
	}
	return mp, len(ps) > 1, ""
}
