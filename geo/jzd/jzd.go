// Package jzd reads and writes the 界址点坐标 TXT exchange format
// (建设用地报批 / 勘测定界 / 用地预审 报盘 files): a [属性描述] block of
// key=value lines followed by a [地块坐标] block of parcels, each a header
// line ending in "@" and point lines "点号,圈号,X,Y".
//
// Source of the format: DOMAIN.md §6 (W12 official-style rules, W13 CASS
// 报盘 layout, W14 worked example, parsers/writers C5–C8). The reader is
// tolerant in the ways real files differ (encoding, line ends, 【】 brackets,
// extra sections, extra or missing header fields, open rings); the writer
// produces the standard layout only.
//
// Coordinates: X is the northing and Y the easting, in metres on a CGCS2000
// Gauss-Krüger plane; the easting usually carries the zone number
// (40520986.477 = zone 40, 520986.477 m). Point keeps them as written.
// Parcel.Polygon, MultiPolygon and RingsEN return (easting, northing) with
// the zone prefix kept, valid in the EPSG code that File.EPSG returns.
//
// This package does no geometry: it does not compute areas, test validity or
// decide whether ring ≥ 2 is a hole or a further part. Hand the rings to
// PostGIS (see Parcel.MultiPolygon) and compare areas there, per the
// project's rule that spatial computation belongs to PostGIS.
package jzd

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Standard header keys of [属性描述], in the order Encode writes them.
var standardKeys = []string{
	"格式版本号", "数据产生单位", "数据产生日期", "坐标系", "几度分带",
	"投影类型", "计量单位", "带号", "精度", "转换参数",
}

// StandardKeys returns the [属性描述] keys in the standard order (DOMAIN.md §6).
func StandardKeys() []string { return append([]string(nil), standardKeys...) }

// Encodings reported in File.Encoding and accepted by Encode.
const (
	UTF8    = "UTF-8"
	GBK     = "GBK"
	GB18030 = "GB18030"
)

// File is a decoded 界址点坐标 file.
type File struct {
	// Header holds the key=value lines of [属性描述] (and of key=value
	// lines before any section), keys and values trimmed. A repeated key
	// keeps its last value.
	Header map[string]string
	// HeaderKeys lists the Header keys in the order they first appeared.
	HeaderKeys []string
	// Sections holds other sections ([项目信息], [扩展信息], …) verbatim; Encode
	// does not write them.
	Sections []Section
	// Encoding is the detected encoding: UTF8, GBK or GB18030 (GB18030 when
	// the file uses four-byte sequences, which GBK lacks).
	Encoding string
	// BOM is true when the file started with a UTF-8 byte-order mark.
	BOM bool
	// CRLF is true when the first line ended in CR LF.
	CRLF bool
	// Parcels in file order.
	Parcels []Parcel
}

// Section is a non-standard section kept as read.
type Section struct {
	Name  string   // without brackets, e.g. "项目信息"
	Line  int      // 1-based line of the [name] line
	Lines []string // the non-blank lines after it, trimmed
}

// Parcel is one 地块: a header line and its points.
type Parcel struct {
	// Line is the 1-based line number of the header line.
	Line int
	// PointCount is the declared 界址点数 (0 when empty). Advisory only:
	// writers differ on whether closing points count.
	PointCount int
	// AreaHa is the declared 地块面积 in hectares (公顷), NaN when empty.
	// Some producers write m² here; compare with the area PostGIS computes.
	AreaHa float64
	// Number is 地块编号, Name 地块名称.
	Number, Name string
	// Shape is 记录图形属性: 点, 线 or 面 (land parcels are always 面).
	Shape string
	// MapSheet is 图幅号, Use 地块用途, DLBM 地类编码 (may be empty or absent).
	MapSheet, Use, DLBM string
	// Extra holds the fields after 地类编码 and before "@" that some
	// producers add.
	Extra []string
	// Rings in order of first appearance of their 圈号; each is closed
	// (last point equals the first).
	Rings []Ring
}

// Ring is the points of one 圈号 of a parcel.
type Ring struct {
	// Number is 圈号: 1 is the outer ring; ≥ 2 are holes (扣除内部面积) or
	// further parts of the same parcel, to be decided by containment in
	// PostGIS.
	Number int
	// Points in file order, closed: when the file left the ring open a copy
	// of the first point is appended with Line 0.
	Points []Point
}

// Point is one 界址点 as written in the file.
type Point struct {
	// Name is 点号 as written, e.g. "J01" or "1".
	Name string
	// Line is the 1-based line number, 0 for a closing point added on read.
	Line int
	// North is X (northing), East is Y (easting, with the zone prefix if
	// the file has one); metres.
	North, East float64
}

// ParseError reports a line of a 界址点 file that cannot be read. Line is
// 1-based; 0 means the problem is the file as a whole (empty, no
// [地块坐标] section).
type ParseError struct {
	Line  int
	Msg   string // English
	MsgZH string // Chinese
}

func (e *ParseError) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s / %s", e.MsgZH, e.Msg)
	}
	return fmt.Sprintf("第%d行：%s / line %d: %s", e.Line, e.MsgZH, e.Line, e.Msg)
}

// RingsEN returns the rings as (easting, northing) points with the zone
// prefix kept, in the order of Rings, each closed.
func (p Parcel) RingsEN() [][]orb.Point {
	out := make([][]orb.Point, len(p.Rings))
	for i, r := range p.Rings {
		pts := make([]orb.Point, len(r.Points))
		for j, pt := range r.Points {
			pts[j] = orb.Point{pt.East, pt.North}
		}
		out[i] = pts
	}
	return out
}

// Polygon returns the rings as one orb.Polygon in (easting, northing) order,
// zone prefix kept, in the CRS of File.EPSG: the first ring (圈号 1 as a
// rule) is the exterior and every further ring is treated as an interior
// ring. That is right when rings ≥ 2 are holes (扣除内部面积), the official
// meaning; when they may be further parts use MultiPolygon and let PostGIS
// decide. Ring orientation is as in the file (not normalised).
func (p Parcel) Polygon() orb.Polygon {
	poly := make(orb.Polygon, len(p.Rings))
	for i, pts := range p.RingsEN() {
		poly[i] = orb.Ring(pts)
	}
	return poly
}

// MultiPolygon returns every ring as its own single-ring polygon, in order,
// (easting, northing), zone prefix kept. It does not decide holes: build the
// parcel in PostGIS, e.g.
//
//	ST_BuildArea(ST_Collect(ARRAY(SELECT ST_ExteriorRing(d.geom) FROM ST_Dump($1) d)))
//
// or test containment of ring k in ring 1 with ST_Within and take
// ST_Difference for holes and ST_Union for parts.
func (p Parcel) MultiPolygon() orb.MultiPolygon {
	mp := make(orb.MultiPolygon, len(p.Rings))
	for i, pts := range p.RingsEN() {
		mp[i] = orb.Polygon{orb.Ring(pts)}
	}
	return mp
}

// DeclaredAreaM2 returns the declared 地块面积 converted from hectares to
// square metres (NaN when not declared).
func (p Parcel) DeclaredAreaM2() float64 {
	if math.IsNaN(p.AreaHa) {
		return math.NaN()
	}
	return p.AreaHa * 10000
}
