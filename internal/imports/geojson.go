package imports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/paulmach/orb"

	"villageplan/geo/crs"
)

// geojsonSource streams a GeoJSON file: a FeatureCollection, a single
// Feature, a single geometry, or the bare JSON array of Features that
// DataV-based Chinese map portals emit. Features are decoded one at a time,
// so memory does not grow with the file.
type geojsonSource struct {
	f    *os.File
	cr   *countingReader
	dec  *json.Decoder
	size int64
	info FileInfo

	state   int // gjStart, gjInArray, gjAfterArray, gjDone
	bare    bool
	index   int
	topType string
	stash   map[string]json.RawMessage
}

const (
	gjStart = iota
	gjInArray
	gjAfterArray
	gjDone
)

func openGeoJSON(path string) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: f}
	dec := json.NewDecoder(bufio.NewReaderSize(cr, 1<<20))
	dec.UseNumber()
	s := &geojsonSource{f: f, cr: cr, dec: dec, size: fileSize(f), stash: map[string]json.RawMessage{}}
	s.info = FileInfo{Path: path, Format: FormatGeoJSON, Encoding: "UTF-8", EncodingFrom: "GeoJSON is UTF-8 by definition (RFC 8259)",
		EPSG: 4326, CRSFrom: "GeoJSON default (OGC CRS84, RFC 7946)"}
	return s, nil
}

func (s *geojsonSource) Info() *FileInfo  { return &s.info }
func (s *geojsonSource) BytesRead() int64 { return s.cr.n.Load() }
func (s *geojsonSource) Size() int64      { return s.size }
func (s *geojsonSource) Close() error     { return s.f.Close() }

func (s *geojsonSource) syntaxErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: not valid JSON at byte %d: %v", s.info.Path, se.Offset, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the JSON ends too early (file cut off?)", s.info.Path)
	}
	return fmt.Errorf("%s: %w", s.info.Path, err)
}

func (s *geojsonSource) Next() (*Feature, error) {
	for {
		switch s.state {
		case gjStart:
			tok, err := s.dec.Token()
			if err != nil {
				return nil, s.syntaxErr(err)
			}
			switch tok {
			case json.Delim('['):
				s.bare = true
				s.state = gjInArray
				s.info.Warnings = append(s.info.Warnings,
					"the file is a bare JSON array of Features, not a GeoJSON FeatureCollection (as DataV/高德 portals write); accepted as a FeatureCollection")
			case json.Delim('{'):
				f, err := s.readTopKeys()
				if err != nil || f != nil {
					return f, err
				}
			default:
				return nil, fmt.Errorf("%s: not GeoJSON: the file must start with { or [", s.info.Path)
			}
		case gjInArray:
			if s.dec.More() {
				var raw gjFeature
				if err := s.dec.Decode(&raw); err != nil {
					return nil, s.syntaxErr(err)
				}
				s.index++
				return s.feature(&raw), nil
			}
			if _, err := s.dec.Token(); err != nil { // ]
				return nil, s.syntaxErr(err)
			}
			if s.bare {
				s.state = gjDone
			} else {
				s.state = gjAfterArray
				f, err := s.readTopKeys()
				if err != nil || f != nil {
					return f, err
				}
			}
		default:
			return nil, io.EOF
		}
	}
}

// readTopKeys reads keys of the top-level object until "features" (state
// becomes gjInArray) or the end of the object (a single Feature or geometry
// is returned; a FeatureCollection ends).
func (s *geojsonSource) readTopKeys() (*Feature, error) {
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return nil, s.syntaxErr(err)
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			tok, err := s.dec.Token()
			if err != nil {
				return nil, s.syntaxErr(err)
			}
			if tok != json.Delim('[') {
				return nil, fmt.Errorf("%s: \"features\" is not an array", s.info.Path)
			}
			s.state = gjInArray
			return nil, nil
		case "type":
			if err := s.dec.Decode(&s.topType); err != nil {
				return nil, s.syntaxErr(err)
			}
		case "crs":
			var c gjCRS
			if err := s.dec.Decode(&c); err != nil {
				return nil, s.syntaxErr(err)
			}
			s.setCRS(c)
		default:
			var raw json.RawMessage
			if err := s.dec.Decode(&raw); err != nil {
				return nil, s.syntaxErr(err)
			}
			s.stash[key] = raw
		}
	}
	if _, err := s.dec.Token(); err != nil { // }
		return nil, s.syntaxErr(err)
	}
	s.state = gjDone
	switch s.topType {
	case "FeatureCollection":
		return nil, io.EOF
	case "Feature":
		s.index++
		return s.feature(&gjFeature{Type: "Feature", ID: s.stash["id"], Geometry: s.stash["geometry"], Properties: s.stash["properties"]}), nil
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
		s.info.Warnings = append(s.info.Warnings, "the file holds a single "+s.topType+" without properties; loaded as one feature")
		geom, _ := json.Marshal(map[string]any{"type": s.topType, "coordinates": s.stash["coordinates"], "geometries": s.stash["geometries"]})
		s.index++
		return s.feature(&gjFeature{Type: "Feature", Geometry: geom}), nil
	case "":
		return nil, fmt.Errorf("%s: not GeoJSON: the top-level object has no \"type\"", s.info.Path)
	}
	return nil, fmt.Errorf("%s: not GeoJSON: unknown top-level type %q", s.info.Path, s.topType)
}

type gjCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

// setCRS reads the pre-RFC 7946 "crs" member that GDAL and Chinese tools
// still write ({"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}}).
// Coordinates stay longitude/easting first, as GDAL writes them.
func (s *geojsonSource) setCRS(c gjCRS) {
	s.info.crsFound = fmt.Sprintf("crs member %q", c.Properties.Name)
	if c.Properties.Name == "" {
		s.info.crsErr = fmt.Errorf("the GeoJSON crs member has no name (only named CRSs are supported)")
		return
	}
	got, err := crs.ParseURI(c.Properties.Name)
	if err != nil {
		s.info.crsErr = err
		return
	}
	s.info.EPSG = got.EPSG
	s.info.CRSFrom = "GeoJSON crs member " + strconv.Quote(c.Properties.Name)
}

type gjFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

type gjGeometry struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometries  []json.RawMessage `json:"geometries"`
}

func (s *geojsonSource) feature(raw *gjFeature) *Feature {
	s.info.Features++
	f := &Feature{Index: s.index, DeclaredAreaM2: math.NaN()}
	if len(raw.ID) > 0 && string(raw.ID) != "null" {
		// RFC 7946 §3.2: the id is a string or a number. Numbers keep
		// their digits (a 12-digit 区划代码 must not become 2.2e+11).
		d := json.NewDecoder(bytes.NewReader(raw.ID))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			switch t := v.(type) {
			case string:
				f.ID = t
			case json.Number:
				f.ID = t.String()
			default: // not RFC 7946, but no reason to refuse the feature
				f.ID = string(raw.ID)
			}
		}
	}
	if raw.Type != "Feature" {
		f.Problem = fmt.Sprintf("is a %q where a Feature was expected", raw.Type)
		return f
	}
	if len(raw.Properties) > 0 && string(raw.Properties) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw.Properties))
		d.UseNumber()
		if err := d.Decode(&f.Props); err != nil {
			f.Problem = "has properties that are not a JSON object: " + err.Error()
			return f
		}
	}
	if len(raw.Geometry) == 0 || string(raw.Geometry) == "null" {
		f.Problem = "has no geometry (null)"
		return f
	}
	g, z, err := decodeGeoJSONGeometry(raw.Geometry, 0)
	if err != nil {
		f.Problem = "has a geometry that cannot be read: " + err.Error()
		return f
	}
	if z {
		f.HasZ = true
	}
	f.Geom = g
	return f
}

// decodeGeoJSONGeometry turns a GeoJSON geometry object into an orb
// geometry. Positions with a third or fourth number (Z, M) are cut to 2D and
// z reports it.
func decodeGeoJSONGeometry(raw []byte, depth int) (g orb.Geometry, z bool, err error) {
	var gg gjGeometry
	if err := json.Unmarshal(raw, &gg); err != nil {
		return nil, false, err
	}
	if gg.Type == "GeometryCollection" {
		if depth > 3 {
			return nil, false, errors.New("GeometryCollection nested too deeply")
		}
		var c orb.Collection
		for _, m := range gg.Geometries {
			mg, mz, err := decodeGeoJSONGeometry(m, depth+1)
			if err != nil {
				return nil, false, err
			}
			z = z || mz
			c = append(c, mg)
		}
		return c, z, nil
	}
	if len(gg.Coordinates) == 0 {
		return nil, false, fmt.Errorf("%s has no coordinates", gg.Type)
	}
	p := &coordParser{b: gg.Coordinates}
	switch gg.Type {
	case "Point":
		pt, err := p.position()
		if err != nil {
			return nil, false, err
		}
		g = pt
	case "MultiPoint":
		ps, err := p.positions()
		if err != nil {
			return nil, false, err
		}
		g = orb.MultiPoint(ps)
	case "LineString":
		ps, err := p.positions()
		if err != nil {
			return nil, false, err
		}
		g = orb.LineString(ps)
	case "MultiLineString":
		ls, err := p.positions2()
		if err != nil {
			return nil, false, err
		}
		ml := make(orb.MultiLineString, len(ls))
		for i, l := range ls {
			ml[i] = orb.LineString(l)
		}
		g = ml
	case "Polygon":
		rs, err := p.positions2()
		if err != nil {
			return nil, false, err
		}
		g = toPolygon(rs)
	case "MultiPolygon":
		ps, err := p.positions3()
		if err != nil {
			return nil, false, err
		}
		mp := make(orb.MultiPolygon, len(ps))
		for i, rs := range ps {
			mp[i] = toPolygon(rs)
		}
		g = mp
	default:
		return nil, false, fmt.Errorf("unknown geometry type %q", gg.Type)
	}
	return g, p.maxDim > 2, nil
}

func toPolygon(rs [][]orb.Point) orb.Polygon {
	pg := make(orb.Polygon, len(rs))
	for i, r := range rs {
		pg[i] = orb.Ring(r)
	}
	return pg
}

// coordParser reads nested arrays of numbers from GeoJSON "coordinates"
// without building interface values (much faster than encoding/json into
// []any for large files).
type coordParser struct {
	b      []byte
	i      int
	maxDim int
}

func (p *coordParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *coordParser) expect(c byte) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != c {
		if p.i >= len(p.b) {
			return fmt.Errorf("coordinates end early, %q expected", c)
		}
		return fmt.Errorf("%q expected in coordinates at offset %d, found %q", c, p.i, p.b[p.i])
	}
	p.i++
	return nil
}

// peek reports whether the next non-space byte is c.
func (p *coordParser) peek(c byte) bool {
	p.ws()
	return p.i < len(p.b) && p.b[p.i] == c
}

func (p *coordParser) number() (float64, error) {
	p.ws()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, fmt.Errorf("a number expected in coordinates at offset %d", start)
	}
	return strconv.ParseFloat(string(p.b[start:p.i]), 64)
}

func (p *coordParser) position() (orb.Point, error) {
	var pt orb.Point
	if err := p.expect('['); err != nil {
		return pt, err
	}
	n := 0
	for {
		v, err := p.number()
		if err != nil {
			return pt, err
		}
		if n < 2 {
			pt[n] = v
		}
		n++
		if p.peek(',') {
			p.i++
			continue
		}
		if err := p.expect(']'); err != nil {
			return pt, err
		}
		break
	}
	if n < 2 {
		return pt, fmt.Errorf("a position has %d number(s); at least 2 are needed", n)
	}
	if n > p.maxDim {
		p.maxDim = n
	}
	return pt, nil
}

func (p *coordParser) positions() ([]orb.Point, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	var out []orb.Point
	if p.peek(']') {
		p.i++
		return out, nil
	}
	for {
		pt, err := p.position()
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
		if p.peek(',') {
			p.i++
			continue
		}
		return out, p.expect(']')
	}
}

func (p *coordParser) positions2() ([][]orb.Point, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	var out [][]orb.Point
	if p.peek(']') {
		p.i++
		return out, nil
	}
	for {
		ps, err := p.positions()
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
		if p.peek(',') {
			p.i++
			continue
		}
		return out, p.expect(']')
	}
}

func (p *coordParser) positions3() ([][][]orb.Point, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	var out [][][]orb.Point
	if p.peek(']') {
		p.i++
		return out, nil
	}
	for {
		ps, err := p.positions2()
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
		if p.peek(',') {
			p.i++
			continue
		}
		return out, p.expect(']')
	}
}
