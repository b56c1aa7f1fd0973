package imports

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
)

// shapefileSource reads an ESRI Shapefile: the .shp (geometry) and .dbf
// (attributes) with optional .prj and .cpg, found beside the named file
// whatever the case of their extensions (.SHP/.DBF/.PRJ/.CPG as Windows
// tools write them), or inside a .zip (see openZippedShapefile). Text is
// decoded in the encoding named by, in order: the .cpg, the DBF
// language-driver byte (0x4D = CP936/GBK), --encoding, else detected from
// the text itself (valid UTF-8 or GB18030); FileInfo says which.
//
// Records are read by their content length (ESRI Shapefile Technical
// Description, 1998), so the optional parts of a record cost nothing: a
// PointZ/PolyLineZ/PolygonZ/MultiPointZ record may or may not carry the M
// range and values (GDAL writes none by default), and only X and Y are
// read; Z and M are dropped with a warning.
type shapefileSource struct {
	shp    *os.File
	br     *bufio.Reader
	pos    int64 // bytes of the .shp read
	size   int64
	dbf    *dbfFile
	info   FileInfo
	names  []string
	enc    string
	row    int
	hasZ   bool
	buf    []byte
	tmpDir string // files extracted from a .zip, removed by Close
}

// ESRI shape types.
const (
	shpNull        = 0
	shpPoint       = 1
	shpPolyLine    = 3
	shpPolygon     = 5
	shpMultiPoint  = 8
	shpPointZ      = 11
	shpPolyLineZ   = 13
	shpPolygonZ    = 15
	shpMultiPointZ = 18
	shpPointM      = 21
	shpPolyLineM   = 23
	shpPolygonM    = 25
	shpMultiPointM = 28
	shpMultiPatch  = 31
)

// sidecar finds base+ext beside base, matching the extension and, failing
// an exact match, the whole name without regard to case (DLTB.SHP with
// DLTB.DBF, dltb.prj).
func sidecar(base, ext string) string {
	for _, e := range []string{ext, strings.ToUpper(ext)} {
		p := base + e
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	dir, want := filepath.Dir(base), filepath.Base(base)+ext
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(e.Name(), want) {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

func openShapefile(path string, ro readerOptions) (source, error) {
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		return openZippedShapefile(path, ro)
	}
	return openShapefileAt(path, "", ro)
}

// openShapefileAt opens the shapefile of path; shown, when set, is the name
// used in messages and FileInfo.Path (the member of a .zip).
func openShapefileAt(path, shown string, ro readerOptions) (source, error) {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	shpPath := sidecar(base, ".shp")
	dbfPath := sidecar(base, ".dbf")
	name := func(p string) string {
		if shown == "" {
			return p
		}
		if strings.EqualFold(filepath.Ext(p), filepath.Ext(shown)) {
			return shown
		}
		return strings.TrimSuffix(shown, filepath.Ext(shown)) + filepath.Ext(p)
	}
	if shpPath == "" || dbfPath == "" {
		return nil, fmt.Errorf("%s: a shapefile needs its .shp and .dbf side by side (found .shp: %v, .dbf: %v)", name(path), shpPath != "", dbfPath != "")
	}
	f, err := os.Open(shpPath)
	if err != nil {
		return nil, err
	}
	s := &shapefileSource{shp: f, size: fileSize(f), br: bufio.NewReaderSize(f, 1<<20)}
	s.info = FileInfo{Path: name(shpPath), Format: FormatShapefile}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var hdr [100]byte
	if _, err := io.ReadFull(s.br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%s: not a shapefile (不是有效的 shp 文件): the file is shorter than the 100-byte header", s.info.Path)
	}
	s.pos = 100
	if code := binary.BigEndian.Uint32(hdr[0:4]); code != 9994 {
		return nil, fmt.Errorf("%s: not a shapefile (不是有效的 shp 文件): file code %d, want 9994", s.info.Path, code)
	}
	switch binary.LittleEndian.Uint32(hdr[32:36]) {
	case shpPointZ, shpPolyLineZ, shpPolygonZ, shpMultiPointZ, shpPointM, shpPolyLineM, shpPolygonM, shpMultiPointM, shpMultiPatch:
		s.hasZ = true
	}
	if s.dbf, err = openDBF(dbfPath); err != nil {
		return nil, fmt.Errorf("%s: %w", name(dbfPath), err)
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
	ldid := s.dbf.ldid
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
	for _, f := range s.dbf.fields {
		name, err := exchange.Decode(s.enc, f.name)
		if err != nil {
			name = string(f.name)
		}
		s.names = append(s.names, strings.TrimSpace(name))
	}
	s.info.Fields = s.names
	ok = true
	return s, nil
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

// detectEncoding looks at the field names and every character field of up
// to 10 000 records.
func (s *shapefileSource) detectEncoding() string {
	var samples [][]byte
	for _, f := range s.dbf.fields {
		samples = append(samples, f.name)
	}
	n := min(s.dbf.n, 10000)
	for row := 0; row < n; row++ {
		rec, err := s.dbf.recordAt(row)
		if err != nil {
			break
		}
		for _, f := range s.dbf.fields {
			if f.typ == 'C' {
				samples = append(samples, append([]byte(nil), rec[f.off:f.off+f.size]...))
			}
		}
	}
	return exchange.Detect(samples...)
}

func (s *shapefileSource) Info() *FileInfo  { return &s.info }
func (s *shapefileSource) Size() int64      { return s.size }
func (s *shapefileSource) BytesRead() int64 { return s.pos }

func (s *shapefileSource) Close() error {
	var err error
	if s.shp != nil {
		err = s.shp.Close()
		s.shp = nil
	}
	if s.dbf != nil {
		s.dbf.f.Close()
		s.dbf = nil
	}
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
		s.tmpDir = ""
	}
	return err
}

// Next reads the next record: the 8-byte record header (number, content
// length in 16-bit words, big-endian), the content, and the DBF row of the
// same position.
func (s *shapefileSource) Next() (*Feature, error) {
	var rh [8]byte
	n, err := io.ReadFull(s.br, rh[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%s: record %d: the file ends inside the record header (%d of 8 bytes): the .shp is cut off (shp 文件不完整)", s.info.Path, s.row+1, n)
	}
	s.pos += 8
	words := int64(binary.BigEndian.Uint32(rh[4:8]))
	if words < 2 || s.pos+2*words > s.size {
		return nil, fmt.Errorf("%s: record %d: content length %d bytes runs past the end of the file (%d bytes left): the .shp is cut off or damaged (shp 文件不完整或已损坏)",
			s.info.Path, s.row+1, 2*words, s.size-s.pos)
	}
	if int64(cap(s.buf)) < 2*words {
		s.buf = make([]byte, 2*words)
	}
	content := s.buf[:2*words]
	if _, err := io.ReadFull(s.br, content); err != nil {
		return nil, fmt.Errorf("%s: record %d: %w", s.info.Path, s.row+1, err)
	}
	s.pos += 2 * words
	s.row++
	s.info.Features++
	f := &Feature{Index: s.row, DeclaredAreaM2: math.NaN(), HasZ: s.hasZ, Props: make(map[string]any, len(s.dbf.fields))}
	if s.row > s.dbf.n {
		f.Problem = fmt.Sprintf("has no attributes (dbf 缺少该记录的属性): the .dbf holds %d row(s), the .shp more", s.dbf.n)
	} else if rec, err := s.dbf.next(s.row - 1); err != nil {
		return nil, fmt.Errorf("%s: record %d: reading the .dbf: %w", s.info.Path, s.row, err)
	} else {
		for i, fd := range s.dbf.fields {
			v, err := s.value(fd, string(rec[fd.off:fd.off+fd.size]))
			if err != nil {
				f.Problem = fmt.Sprintf("field %s: %v", s.names[i], err)
			}
			f.Props[s.names[i]] = v
		}
	}
	g, rings, problem := shapeGeometry(content)
	f.Geom, f.Rings = g, rings
	if problem != "" && f.Problem == "" {
		f.Problem = problem
	}
	return f, nil
}

// value converts one DBF value: C text in the file's encoding, N/F
// numbers (int64 without decimals, float64 with), D dates (YYYYMMDD), L
// logicals. Blank values and "*"-filled numbers are nil.
func (s *shapefileSource) value(fd dbfField, raw string) (any, error) {
	raw = strings.TrimRight(raw, "\x00")
	t := strings.TrimSpace(raw)
	switch fd.typ {
	case 'C', 'M':
		if t == "" {
			return nil, nil
		}
		return exchange.Decode(s.enc, []byte(t))
	case 'N', 'F':
		if t == "" || strings.Trim(t, "*") == "" {
			return nil, nil
		}
		if fd.dec == 0 {
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

// shapeGeometry converts the content of a shapefile record (shape type,
// then the type's fields, little-endian) to a 2D geometry; Z and M parts
// that follow X and Y are not read, so their presence does not matter.
// Polygon records become a MultiPolygon of single rings with rings=true:
// the shapefile lists the rings of every part in one sequence, and PostGIS
// decides which ring is a hole of which outer ring (containment), so a
// multipart record in a "Polygon" shapefile becomes a MultiPolygon.
func shapeGeometry(c []byte) (g orb.Geometry, rings bool, problem string) {
	le := binary.LittleEndian
	short := func(what string, need int) string {
		return fmt.Sprintf("has a %s record of %d bytes; its header says it needs %d (damaged .shp, shp 记录已损坏)", what, len(c), need)
	}
	if len(c) < 4 {
		return nil, false, short("shape", 4)
	}
	xy := func(off int) orb.Point {
		return orb.Point{math.Float64frombits(le.Uint64(c[off:])), math.Float64frombits(le.Uint64(c[off+8:]))}
	}
	switch t := le.Uint32(c[0:4]); t {
	case shpNull:
		return nil, false, "has no geometry (null shape)"
	case shpPoint, shpPointZ, shpPointM:
		if len(c) < 20 {
			return nil, false, short("point", 20)
		}
		return xy(4), false, ""
	case shpMultiPoint, shpMultiPointZ, shpMultiPointM:
		if len(c) < 40 {
			return nil, false, short("multipoint", 40)
		}
		n := int(le.Uint32(c[36:40]))
		if n < 0 || n > (len(c)-40)/16 {
			return nil, false, short("multipoint", 40+16*n)
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = xy(40 + 16*i)
		}
		return mp, false, ""
	case shpPolyLine, shpPolyLineZ, shpPolyLineM, shpPolygon, shpPolygonZ, shpPolygonM:
		what := "polyline"
		if t == shpPolygon || t == shpPolygonZ || t == shpPolygonM {
			what = "polygon"
		}
		if len(c) < 44 {
			return nil, false, short(what, 44)
		}
		np, npts := int(int32(le.Uint32(c[36:40]))), int(int32(le.Uint32(c[40:44])))
		if np < 1 || npts < 0 || np > (len(c)-44)/4 || npts > (len(c)-44-4*np)/16 {
			return nil, false, fmt.Sprintf("has a %s record with %d part(s) and %d point(s) that do not fit in its %d bytes (damaged .shp, shp 记录已损坏)", what, np, npts, len(c))
		}
		ptsAt := 44 + 4*np
		parts := make([][]orb.Point, np)
		for i := range parts {
			start := int(int32(le.Uint32(c[44+4*i:])))
			end := npts
			if i+1 < np {
				end = int(int32(le.Uint32(c[44+4*(i+1):])))
			}
			if start < 0 || start > end || end > npts {
				return nil, false, fmt.Sprintf("has a %s record whose part %d starts at point %d and ends at %d of %d (damaged .shp, shp 记录已损坏)", what, i+1, start, end, npts)
			}
			ps := make([]orb.Point, end-start)
			for k := range ps {
				ps[k] = xy(ptsAt + 16*(start+k))
			}
			parts[i] = ps
		}
		if what == "polyline" {
			return lines(parts), false, ""
		}
		return ringSet(parts)
	case shpMultiPatch:
		return nil, false, "is a MultiPatch (3D surfaces, 三维面片), which villageplan does not read; convert it to polygons (e.g. ogr2ogr -nlt MULTIPOLYGON)"
	default:
		return nil, false, fmt.Sprintf("has an unknown shape type %d", t)
	}
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

// dbfFile reads the attribute table of a shapefile (dBASE III/IV as ESRI
// and GDAL write it): header, field descriptors up to 0x0D, fixed-width
// records, each starting with the deletion flag.
type dbfFile struct {
	f      *os.File
	br     *bufio.Reader
	n      int // records
	hdrLen int
	recLen int
	ldid   byte
	fields []dbfField
	seq    int // next record of br
	rec    []byte
}

type dbfField struct {
	name      []byte // raw bytes, in the file's encoding
	typ       byte
	off, size int // within the record (after the deletion flag)
	dec       int
}

func openDBF(path string) (*dbfFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d := &dbfFile{f: f}
	var h [32]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		f.Close()
		return nil, errors.New("not a dBASE file (不是有效的 dbf 文件): shorter than its 32-byte header")
	}
	d.n = int(binary.LittleEndian.Uint32(h[4:8]))
	d.hdrLen = int(binary.LittleEndian.Uint16(h[8:10]))
	d.recLen = int(binary.LittleEndian.Uint16(h[10:12]))
	d.ldid = h[29]
	if d.hdrLen < 33 || d.recLen < 1 {
		f.Close()
		return nil, fmt.Errorf("not a dBASE file (不是有效的 dbf 文件): header length %d, record length %d", d.hdrLen, d.recLen)
	}
	desc := make([]byte, d.hdrLen-32)
	if _, err := io.ReadFull(f, desc); err != nil {
		f.Close()
		return nil, errors.New("the dBASE header is cut off (dbf 文件头不完整)")
	}
	off := 1
	for i := 0; i+32 <= len(desc) && desc[i] != 0x0D; i += 32 {
		fd := desc[i : i+32]
		name := fd[:11]
		if k := indexByte(name, 0); k >= 0 {
			name = name[:k]
		}
		fl := dbfField{name: append([]byte(nil), name...), typ: fd[11], off: off, size: int(fd[16]), dec: int(fd[17])}
		off += fl.size
		d.fields = append(d.fields, fl)
	}
	if off > d.recLen {
		f.Close()
		return nil, fmt.Errorf("the dBASE fields take %d bytes but a record has %d (dbf 文件头已损坏)", off, d.recLen)
	}
	if st, err := f.Stat(); err == nil {
		// A file cut off holds fewer records than its header says.
		if have := int((st.Size() - int64(d.hdrLen)) / int64(d.recLen)); have < d.n {
			d.n = max(have, 0)
		}
	}
	d.rec = make([]byte, d.recLen)
	d.br = bufio.NewReaderSize(io.NewSectionReader(f, int64(d.hdrLen), int64(d.n)*int64(d.recLen)), 1<<20)
	return d, nil
}

// next returns record row (0-based), read sequentially when row follows
// the last one read (the common case), else at its offset.
func (d *dbfFile) next(row int) ([]byte, error) {
	if row != d.seq {
		return d.recordAt(row)
	}
	if _, err := io.ReadFull(d.br, d.rec); err != nil {
		return nil, err
	}
	d.seq++
	return d.rec, nil
}

// recordAt reads record row (0-based) at its offset, without moving the
// sequential reader.
func (d *dbfFile) recordAt(row int) ([]byte, error) {
	b := make([]byte, d.recLen)
	if _, err := d.f.ReadAt(b, int64(d.hdrLen)+int64(row)*int64(d.recLen)); err != nil {
		return nil, err
	}
	return b, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
