package imports

import (
	"fmt"
	"io"
	"os"

	"villageplan/geo/jzd"
	"villageplan/internal/exchange"
)

// jzdSource reads a 界址点坐标 TXT file with geo/jzd. Every parcel becomes
// one feature whose rings go to PostGIS unassembled (Feature.Rings): ring
// ≥ 2 is a hole when it lies inside another ring and a further part
// otherwise. The parcel-line fields become the properties 地块编号, 地块名称,
// 地块用途, 地类编码, 图幅号 and 地块面积 (converted from 公顷 to m²), which the
// importer maps to the layer's standard fields (see exchange.ParcelField).
type jzdSource struct {
	f     *jzd.File
	size  int64
	info  FileInfo
	index int
}

func openJZD(path string) (source, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := jzd.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &jzdSource{f: f, size: fileSize(fh)}
	s.info = FileInfo{Path: path, Format: FormatJZD, Encoding: f.Encoding, EncodingFrom: "detected (valid UTF-8, else GB18030)",
		Fields: []string{string(exchange.RoleNumber), string(exchange.RoleName), string(exchange.RoleUse), string(exchange.RoleDLBM), "图幅号", string(exchange.RoleArea)}}
	if f.CRLF {
		s.info.EncodingFrom += ", CR LF line ends"
	}
	s.info.crsFound = fmt.Sprintf("坐标系=%s 几度分带=%s 带号=%s", f.Header["坐标系"], f.Header["几度分带"], f.Header["带号"])
	code, err := f.EPSG()
	if err != nil {
		s.info.crsErr = err
	} else {
		s.info.EPSG = code
		s.info.CRSFrom = "界址点 header (" + s.info.crsFound + ") and eastings"
	}
	return s, nil
}

func (s *jzdSource) Info() *FileInfo { return &s.info }
func (s *jzdSource) Size() int64     { return s.size }
func (s *jzdSource) BytesRead() int64 {
	if len(s.f.Parcels) == 0 {
		return s.size
	}
	return s.size * int64(s.index) / int64(len(s.f.Parcels))
}
func (s *jzdSource) Close() error { return nil }

func (s *jzdSource) Next() (*Feature, error) {
	if s.index >= len(s.f.Parcels) {
		return nil, io.EOF
	}
	p := s.f.Parcels[s.index]
	s.index++
	s.info.Features++
	props := map[string]any{
		string(exchange.RoleNumber): nilIfEmpty(p.Number),
		string(exchange.RoleName):   nilIfEmpty(p.Name),
		string(exchange.RoleUse):    nilIfEmpty(p.Use),
		string(exchange.RoleDLBM):   nilIfEmpty(p.DLBM),
		"图幅号":                       nilIfEmpty(p.MapSheet),
	}
	area := p.DeclaredAreaM2()
	if area == area { // not NaN
		props[string(exchange.RoleArea)] = area
	} else {
		props[string(exchange.RoleArea)] = nil
	}
	f := &Feature{Index: s.index, ID: p.Number, Props: props, Geom: p.MultiPolygon(), Rings: true, DeclaredAreaM2: area}
	if p.Shape != "" && p.Shape != "面" {
		f.Problem = fmt.Sprintf("is a %s (记录图形属性), not a 面 (polygon) parcel", p.Shape)
	}
	f.Label = fmt.Sprintf("line %d", p.Line)
	return f, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
