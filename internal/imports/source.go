package imports

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// Formats that Import reads, as reported in FileInfo.Format.
const (
	FormatGeoJSON    = "geojson"
	FormatShapefile  = "shp"
	FormatGeoPackage = "gpkg"
	FormatJZD        = "jzd"
	FormatCSV        = "csv"
)

// Feature is one record read from a file, before mapping to a layer.
type Feature struct {
	// Index is the 1-based position of the record in its file.
	Index int
	// ID is the record's own identifier when the format has one (GeoJSON
	// id, GeoPackage fid, 界址点 地块编号), "" otherwise.
	ID string
	// Label names the record for people: its id and a name-like property
	// ("#12 id=… name=榆树市").
	Label string
	// Geom is the 2D geometry in the file's CRS (easting/longitude first);
	// nil when WKB is set or the record has no geometry.
	Geom orb.Geometry
	// WKB is an OGC/ISO WKB geometry in the file's CRS, possibly with Z or
	// M (HasZ), used for formats that store WKB (GeoPackage, CSV WKT).
	WKB  []byte
	HasZ bool
	// Rings is true when Geom is an orb.MultiPolygon whose polygons are
	// single rings whose roles (outer ring, hole, further part) are not
	// known yet: PostGIS assembles them by containment (ST_BuildArea).
	Rings bool
	// Props are the attribute values: string, json.Number, float64, int64,
	// bool, time.Time, nil, or nested JSON (map/slice) from GeoJSON.
	Props map[string]any
	// DeclaredAreaM2 is the area the file declares for the record in m²
	// (界址点 地块面积 × 10 000), NaN when none.
	DeclaredAreaM2 float64
	// Problem is a structural problem the reader found (no geometry, an
	// unknown geometry type); the record is reported, never loaded.
	Problem string
}

// FileInfo describes one input file as read.
type FileInfo struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Layer is the layer name inside a GeoPackage, or the shapefile
	// (folder/name) inside a .zip.
	Layer string `json:"layer,omitempty"`
	// Encoding is the text encoding used to read attribute text and
	// EncodingFrom says where it came from (".cpg", "DBF language driver
	// 0x4D", "--encoding", "detected", "UTF-8 by definition").
	Encoding     string `json:"encoding,omitempty"`
	EncodingFrom string `json:"encoding_from,omitempty"`
	// EPSG is the CRS of the coordinates and CRSFrom where it came from.
	EPSG    int    `json:"epsg"`
	CRSFrom string `json:"crs_from"`
	// Features is the number of records read.
	Features int `json:"features"`
	// Fields are the attribute names found in the file.
	Fields   []string `json:"fields,omitempty"`
	Warnings []string `json:"warnings,omitempty"`

	// crsErr is set when the file names a CRS that cannot be identified;
	// it is an error unless --crs is given.
	crsErr error
	// crsFound describes what the file says about its CRS, for messages.
	crsFound string
}

// source reads the features of one file in order.
type source interface {
	// Next returns the next feature, or io.EOF after the last.
	Next() (*Feature, error)
	// Info describes the file; the CRS of a GeoJSON file is final only
	// after Next returned io.EOF (a "crs" member may follow "features").
	Info() *FileInfo
	// BytesRead and Size give the progress through the file in bytes.
	BytesRead() int64
	Size() int64
	Close() error
}

// readerOptions are the options that readers need.
type readerOptions struct {
	encoding    string // normalised --encoding, "" when not given
	sourceLayer string // GeoPackage layer, shapefile in a .zip
	csvWKT      string
	csvX, csvY  string
}

// openSource picks the reader by file extension, in any case (.SHP as
// .shp), and content for .json and .txt.
func openSource(path string, ro readerOptions) (source, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".geojson", ".json":
		return openGeoJSON(path)
	case ".shp", ".dbf", ".zip":
		return openShapefile(path, ro)
	case ".gpkg":
		return openGeoPackage(path, ro)
	case ".txt":
		return openJZD(path)
	case ".csv", ".tsv":
		return openCSV(path, ro)
	}
	return nil, fmt.Errorf("%s: unknown file type %q: villageplan imports GeoJSON (.geojson/.json), Shapefile (.shp, or zipped: .zip), GeoPackage (.gpkg), 界址点坐标 txt (.txt) and CSV (.csv)", path, ext)
}

// countingReader counts bytes for progress reporting.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

// structureProblem checks what PostGIS cannot be asked about because the
// geometry would not parse or would be silently changed: finite
// coordinates, closed rings with at least 4 positions, lines with at least
// 2 positions. It returns "" when the geometry is well formed.
func structureProblem(g orb.Geometry) string {
	switch g := g.(type) {
	case orb.Point:
		return pointProblem(g, "")
	case orb.MultiPoint:
		for i, p := range g {
			if s := pointProblem(p, fmt.Sprintf("point %d ", i+1)); s != "" {
				return s
			}
		}
	case orb.LineString:
		return lineProblem(g, "")
	case orb.MultiLineString:
		for i, l := range g {
			if s := lineProblem(l, fmt.Sprintf("line %d ", i+1)); s != "" {
				return s
			}
		}
	case orb.Polygon:
		return polygonProblem(g, "")
	case orb.MultiPolygon:
		for i, p := range g {
			if s := polygonProblem(p, fmt.Sprintf("polygon %d ", i+1)); s != "" {
				return s
			}
		}
	case orb.Collection:
		for i, c := range g {
			if s := structureProblem(c); s != "" {
				return fmt.Sprintf("member %d: %s", i+1, s)
			}
		}
	}
	return ""
}

func pointProblem(p orb.Point, what string) string {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
		return fmt.Sprintf("%shas a coordinate that is not a finite number", what)
	}
	return ""
}

func lineProblem(l orb.LineString, what string) string {
	if len(l) < 2 {
		return fmt.Sprintf("%shas %d position(s); a line needs at least 2", what, len(l))
	}
	for i, p := range l {
		if s := pointProblem(p, ""); s != "" {
			return fmt.Sprintf("%sposition %d %s", what, i+1, s)
		}
	}
	return ""
}

func polygonProblem(p orb.Polygon, what string) string {
	if len(p) == 0 {
		return fmt.Sprintf("%shas no rings", what)
	}
	for i, r := range p {
		ring := fmt.Sprintf("%sring %d ", what, i+1)
		if len(r) < 4 {
			return fmt.Sprintf("%shas %d position(s); a closed ring needs at least 4 (3 corners and the first repeated)", ring, len(r))
		}
		for j, pt := range r {
			if s := pointProblem(pt, ""); s != "" {
				return fmt.Sprintf("%sposition %d %s", ring, j+1, s)
			}
		}
		if r[0] != r[len(r)-1] {
			return fmt.Sprintf("%sis not closed: it starts at %g %g and ends at %g %g", ring, r[0][0], r[0][1], r[len(r)-1][0], r[len(r)-1][1])
		}
	}
	return ""
}

// closeRings closes every open ring in place (used by --repair) and
// reports whether it changed anything.
func closeRings(g orb.Geometry) (orb.Geometry, bool) {
	changed := false
	fix := func(p orb.Polygon) orb.Polygon {
		for i, r := range p {
			if len(r) >= 3 && r[0] != r[len(r)-1] {
				p[i] = append(r, r[0])
				changed = true
			}
		}
		return p
	}
	switch t := g.(type) {
	case orb.Polygon:
		return fix(t), changed
	case orb.MultiPolygon:
		for i := range t {
			t[i] = fix(t[i])
		}
		return t, changed
	}
	return g, false
}

// WKB geometry type codes (OGC simple features).
const (
	wkbPoint              = 1
	wkbLineString         = 2
	wkbPolygon            = 3
	wkbMultiPoint         = 4
	wkbMultiLineString    = 5
	wkbMultiPolygon       = 6
	wkbGeometryCollection = 7
)

// wkbType reads the geometry type of an OGC/ISO WKB or PostGIS EWKB header:
// the base type (1–7), whether Z or M is present, and for a MultiPoint the
// number of points.
func wkbType(b []byte) (base int, zm bool, count int, err error) {
	if len(b) < 5 {
		return 0, false, 0, errors.New("WKB is shorter than its header")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[0] == 0 {
		bo = binary.BigEndian
	}
	t := bo.Uint32(b[1:5])
	off := 5
	if t&0x20000000 != 0 { // EWKB SRID
		off += 4
	}
	if t&0xC0000000 != 0 {
		zm = true
	}
	t &= 0x0FFFFFFF
	if t >= 1000 {
		zm = true
		t %= 1000
	}
	if t == wkbMultiPoint && len(b) >= off+4 {
		count = int(bo.Uint32(b[off : off+4]))
	}
	return int(t), zm, count, nil
}

var wkbTypeNames = map[int]string{
	wkbPoint: "Point", wkbLineString: "LineString", wkbPolygon: "Polygon", wkbMultiPoint: "MultiPoint",
	wkbMultiLineString: "MultiLineString", wkbMultiPolygon: "MultiPolygon", wkbGeometryCollection: "GeometryCollection",
}
