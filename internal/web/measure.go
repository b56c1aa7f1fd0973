package web

import (
	"context"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"villageplan/geo/crs"
)

// MaxMeasureVertices bounds the vertices of one measured line or polygon.
const MaxMeasureVertices = 10000

// Measurement is a line's length or a polygon's area and perimeter on the
// CGCS2000 3-degree Gauss-Krüger plane of its first vertex's longitude,
// the plane (and rounding: PostGIS to 4 decimals, then 2) on which the
// siting checks measure a site sent in CRS84, so the map's ruler and the
// check report give the same numbers.
type Measurement struct {
	EPSG  int    `json:"epsg"`
	Plane string `json:"plane"`
	// Type is "LineString" or "Polygon".
	Type string `json:"type"`
	// LengthM is a line's length in metres (0 for a polygon).
	LengthM float64 `json:"length_m"`
	// AreaM2 and PerimeterM are a polygon's (0 for a line).
	AreaM2     float64 `json:"area_m2"`
	PerimeterM float64 `json:"perimeter_m"`
	// SegmentsM are the lengths of the line's (or outer ring's) segments
	// in order, metres.
	SegmentsM []float64 `json:"segments_m"`
}

// MeasureError is a geometry the ruler cannot measure (a 400 naming the
// field).
type MeasureError struct{ ZH, EN string }

func (e *MeasureError) Error() string { return e.ZH + " / " + e.EN }

// Measure measures a GeoJSON LineString or Polygon in CRS84 (longitude,
// latitude in degrees, CGCS2000 taken as WGS 84 as the features API
// does) in PostGIS on the Gauss-Krüger plane of its first vertex. Errors:
// *MeasureError for a geometry of another type, with too few or too many
// vertices, or outside the CGCS2000 zones (75°E–135°E).
func (s *Store) Measure(ctx context.Context, raw []byte) (*Measurement, error) {
	bad := func(zh, en string, a ...any) error {
		return &MeasureError{fmt.Sprintf(zh, a...), fmt.Sprintf(en, a...)}
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil || g == nil || g.Geometry() == nil {
		return nil, bad("geometry 须为 GeoJSON LineString 或 Polygon（CRS84 经纬度）", "geometry must be a GeoJSON LineString or Polygon (CRS84 longitude, latitude)")
	}
	var first orb.Point
	n := 0
	switch t := g.Geometry().(type) {
	case orb.LineString:
		if len(t) < 2 {
			return nil, bad("线至少需要 2 个点", "a line needs at least 2 points")
		}
		first, n = t[0], len(t)
	case orb.Polygon:
		if len(t) == 0 || len(t[0]) < 4 || t[0][0] != t[0][len(t[0])-1] {
			return nil, bad("面的外环须闭合且至少有 4 个点", "a polygon's outer ring must be closed with at least 4 points")
		}
		first = t[0][0]
		for _, r := range t {
			n += len(r)
		}
	default:
		return nil, bad("只能量测 LineString 或 Polygon，收到 %s", "only a LineString or Polygon can be measured, got %s", g.Geometry().GeoJSONType())
	}
	if n > MaxMeasureVertices {
		return nil, bad("最多 %d 个点，收到 %d 个", "at most %d points, got %d", MaxMeasureVertices, n)
	}
	for _, p := range orb.MultiPoint(collect(g.Geometry())) {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			return nil, bad("坐标 %v 不是经纬度", "position %v is not a longitude, latitude", p)
		}
	}
	epsg, err := crs.EPSGFor3DegreeZone(crs.GKZone3ForLongitude(first[0]), false)
	if err != nil {
		return nil, bad("经度 %.4f 不在 CGCS2000 高斯-克吕格 3 度带范围内（东经 75°–135°）", "longitude %.4f is outside the CGCS2000 3-degree Gauss-Krüger zones (75°E–135°E)", first[0])
	}
	m := &Measurement{EPSG: epsg, Type: g.Geometry().GeoJSONType()}
	if c, ok := crs.Lookup(epsg); ok {
		m.Plane = c.Name
	}
	var segs []float64
	err = s.pool.QueryRow(ctx, `WITH g AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4490), $2::int) AS p)
		SELECT round(ST_Length(p)::numeric, 4)::float8, round(ST_Area(p)::numeric, 4)::float8, round(ST_Perimeter(p)::numeric, 4)::float8,
		       (SELECT coalesce(array_agg(round(ST_Length(d.geom)::numeric, 4)::float8 ORDER BY d.path), '{}')
		        FROM ST_DumpSegments(CASE WHEN GeometryType(p) = 'POLYGON' THEN ST_ExteriorRing(p) ELSE p END) d)
		FROM g`, string(raw), epsg).Scan(&m.LengthM, &m.AreaM2, &m.PerimeterM, &segs)
	if err != nil {
		return nil, err
	}
	m.LengthM, m.AreaM2, m.PerimeterM = round2(m.LengthM), round2(m.AreaM2), round2(m.PerimeterM)
	m.SegmentsM = make([]float64, len(segs))
	for i, v := range segs {
		m.SegmentsM[i] = round2(v)
	}
	return m, nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// collect lists every position of a line or polygon.
func collect(g orb.Geometry) []orb.Point {
	switch t := g.(type) {
	case orb.LineString:
		return t
	case orb.Polygon:
		var out []orb.Point
		for _, r := range t {
			out = append(out, r...)
		}
		return out
	}
	return nil
}
