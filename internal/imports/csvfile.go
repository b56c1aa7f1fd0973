package imports

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-geom/encoding/wkt"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"villageplan/internal/exchange"
)

// csvSource reads a delimited text file with either a WKT column or an x/y
// column pair. Columns are found by name (case-insensitive) unless given:
// WKT in wkt, geom, geometry, the_geom, shape, 几何, 坐标串; x/y as x/y,
// lon/lat, lng/lat, longitude/latitude, 经度/纬度. The delimiter is a comma,
// or a tab or semicolon when the header line has more of those. Text is
// UTF-8 (a BOM is skipped) or GBK, from --encoding or detected from the
// first 64 KiB.
type csvSource struct {
	f      *os.File
	cr     *countingReader
	r      *csv.Reader
	size   int64
	info   FileInfo
	header []string
	wktCol int
	xCol   int
	yCol   int
	index  int
	line   int
}

var (
	csvWKTNames = []string{"wkt", "geom", "geometry", "the_geom", "shape", "几何", "坐标串"}
	csvXYNames  = [][2]string{{"x", "y"}, {"lon", "lat"}, {"lng", "lat"}, {"longitude", "latitude"}, {"经度", "纬度"}, {"east", "north"}, {"easting", "northing"}}
)

func openCSV(path string, ro readerOptions) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &csvSource{f: f, size: fileSize(f), wktCol: -1, xCol: -1, yCol: -1}
	s.info = FileInfo{Path: path, Format: FormatCSV}
	if err := s.open(ro); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *csvSource) open(ro readerOptions) error {
	s.cr = &countingReader{r: s.f}
	br := bufio.NewReaderSize(s.cr, 1<<16)
	head, _ := br.Peek(1 << 16)
	var in io.Reader = br
	bom := bytes.HasPrefix(head, []byte("\xef\xbb\xbf"))
	switch {
	case bom:
		_, _ = br.Discard(3)
		s.info.Encoding, s.info.EncodingFrom = exchange.UTF8, "UTF-8 byte-order mark"
	case ro.encoding != "":
		s.info.Encoding, s.info.EncodingFrom = ro.encoding, "--encoding"
	default:
		// A cut multi-byte character at the end of the sample is not an
		// error: look at whole lines only.
		sample := head
		if i := bytes.LastIndexByte(sample, '\n'); i > 0 && len(head) == 1<<16 {
			sample = sample[:i]
		}
		s.info.Encoding, s.info.EncodingFrom = exchange.Detect(sample), "detected from the first 64 KiB (no BOM, no --encoding)"
	}
	if s.info.Encoding == exchange.GBK || s.info.Encoding == exchange.GB18030 {
		in = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	s.r = csv.NewReader(in)
	firstLine := string(head)
	if i := strings.IndexByte(firstLine, '\n'); i >= 0 {
		firstLine = firstLine[:i]
	}
	switch {
	case strings.Count(firstLine, "\t") > strings.Count(firstLine, ","):
		s.r.Comma = '\t'
	case strings.Count(firstLine, ";") > strings.Count(firstLine, ","):
		s.r.Comma = ';'
	}
	s.r.FieldsPerRecord = -1
	s.r.LazyQuotes = true
	hdr, err := s.r.Read()
	if err != nil {
		return fmt.Errorf("%s: cannot read the header line: %w", s.info.Path, err)
	}
	s.line = 1
	for i := range hdr {
		hdr[i] = strings.TrimSpace(hdr[i])
	}
	s.header = hdr
	col := func(name string) int {
		for i, h := range hdr {
			if strings.EqualFold(h, name) {
				return i
			}
		}
		return -1
	}
	switch {
	case ro.csvWKT != "":
		if s.wktCol = col(ro.csvWKT); s.wktCol < 0 {
			return fmt.Errorf("%s: no column %q; the columns are: %s", s.info.Path, ro.csvWKT, strings.Join(hdr, ", "))
		}
	case ro.csvX != "" || ro.csvY != "":
		s.xCol, s.yCol = col(ro.csvX), col(ro.csvY)
		if s.xCol < 0 || s.yCol < 0 {
			return fmt.Errorf("%s: no column %q or %q; the columns are: %s", s.info.Path, ro.csvX, ro.csvY, strings.Join(hdr, ", "))
		}
	default:
		for _, n := range csvWKTNames {
			if s.wktCol = col(n); s.wktCol >= 0 {
				break
			}
		}
		if s.wktCol < 0 {
			for _, xy := range csvXYNames {
				if x, y := col(xy[0]), col(xy[1]); x >= 0 && y >= 0 {
					s.xCol, s.yCol = x, y
					break
				}
			}
		}
		if s.wktCol < 0 && s.xCol < 0 {
			return fmt.Errorf("%s: no geometry column found among %s; name a WKT column with --csv-wkt COL or coordinate columns with --csv-x COL --csv-y COL",
				s.info.Path, strings.Join(hdr, ", "))
		}
	}
	for i, h := range hdr {
		if i != s.wktCol && i != s.xCol && i != s.yCol {
			s.info.Fields = append(s.info.Fields, h)
		}
	}
	s.info.crsFound = "CSV files do not carry a coordinate system"
	s.info.crsErr = fmt.Errorf("a CSV file does not say its coordinate system")
	return nil
}

func (s *csvSource) Info() *FileInfo  { return &s.info }
func (s *csvSource) Size() int64      { return s.size }
func (s *csvSource) BytesRead() int64 { return s.cr.n.Load() }
func (s *csvSource) Close() error     { return s.f.Close() }

func (s *csvSource) Next() (*Feature, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	s.line++
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.info.Path, err)
	}
	s.index++
	s.info.Features++
	f := &Feature{Index: s.index, DeclaredAreaM2: math.NaN(), Props: make(map[string]any, len(rec)), Label: fmt.Sprintf("line %d", s.line)}
	for i, v := range rec {
		if i >= len(s.header) || i == s.wktCol || i == s.xCol || i == s.yCol {
			continue
		}
		if v == "" {
			f.Props[s.header[i]] = nil
		} else {
			f.Props[s.header[i]] = v
		}
	}
	get := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	if s.wktCol >= 0 {
		text := get(s.wktCol)
		if text == "" {
			f.Problem = "has no geometry (empty WKT)"
			return f, nil
		}
		g, err := wkt.Unmarshal(text)
		if err != nil {
			f.Problem = "has WKT that cannot be read: " + err.Error()
			return f, nil
		}
		b, err := wkb.Marshal(g, binary.LittleEndian)
		if err != nil {
			f.Problem = "has a geometry that cannot be converted: " + err.Error()
			return f, nil
		}
		f.WKB = b
		f.HasZ = g.Layout() != geom.XY
		return f, nil
	}
	x, errX := strconv.ParseFloat(get(s.xCol), 64)
	y, errY := strconv.ParseFloat(get(s.yCol), 64)
	if errX != nil || errY != nil {
		f.Problem = fmt.Sprintf("has coordinates %q, %q that are not numbers", get(s.xCol), get(s.yCol))
		return f, nil
	}
	// Chinese survey tables write X = northing, Y = easting (DOMAIN.md §5).
	// A northing in China is 1 000 000–6 000 000 m, an easting below
	// 1 000 000 m or zone-prefixed above 10 000 000 m, so the order can be
	// told from the values.
	if looksNorthing(x) && (y < 1_000_000 || y > 10_000_000) && y > 0 {
		x, y = y, x
		if s.index == 1 {
			s.info.Warnings = append(s.info.Warnings, "the x column holds northings (surveying convention X = 北): x and y swapped")
		}
	}
	f.Geom = orb.Point{x, y}
	return f, nil
}

func looksNorthing(v float64) bool { return v >= 1_000_000 && v < 7_000_000 }
