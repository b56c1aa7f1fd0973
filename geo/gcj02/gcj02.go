// Package gcj02 converts between WGS 84 and GCJ-02, the obfuscated
// coordinates ("Mars coordinates", 火星坐标) of 高德/AutoNavi, Aliyun DataV,
// Tencent and Google China. PROJ and PostGIS do not know GCJ-02, so this
// package does the one conversion the importer cannot hand to PostGIS.
//
// The forward formula (FromWGS84) is the one published in many open-source
// libraries, e.g. github.com/googollee/eviltransform and
// github.com/wandergis/coordtransform, with the Krasovsky semi-major axis
// a = 6 378 245 m and ee = 0.00669342162296594323 (the newer eviltransform
// uses a = 6 378 137 m, which moves results by about 1 cm). Outside the
// rectangle 72.004–137.8347°E, 0.8293–55.8271°N coordinates pass through
// unchanged, as in those libraries.
//
// ToWGS84 inverts the forward formula exactly, by fixed-point iteration,
// instead of the one-step approximation (subtracting the forward offset)
// that many libraries use and that is off by up to a few metres.
// Measured by TestRoundTripShuangyang on a 0.01° grid (5 041 points) over
// lon 125.4–126.1, lat 43.2–43.9 (双阳区), where the GCJ-02 offset is
// 534–610 m: |FromWGS84(ToWGS84(p)) − p| ≤ 1.4e-9 m and
// |ToWGS84(FromWGS84(p)) − p| ≤ 1.6e-9 m, i.e. float64 rounding (about
// 1e-14°); the one-step approximation is off by up to 3.2 m there. The
// published GCJ-02 formula is itself only an approximation of the official
// (secret) algorithm; real GCJ-02 data agree with it to about a metre.
//
// Datum: the output is WGS 84 longitude/latitude in degrees. CGCS2000 and
// WGS 84 (G1762) differ by a few centimetres in China, below the accuracy of
// any GCJ-02 source, so villageplan stores the result directly as CGCS2000
// (EPSG:4490) without a datum shift.
//
// Legal note: processing GCJ-02 data is allowed; publishing a conversion of
// survey-grade data between the two systems is restricted in China
// (《测绘法》, 《公开地图内容表示规范》). Use this for importing web-map data, not
// for exporting cadastral data to GCJ-02 web maps.
package gcj02

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

const (
	// krasovskyA is the semi-major axis the published formula uses, metres.
	krasovskyA = 6378245.0
	// ee is the squared eccentricity the published formula uses.
	ee = 0.00669342162296594323

	// tolerance of the inverse: stop when the forward image of the result
	// matches the input to this many degrees (1e-14° ≈ 1 nm, about one ulp
	// of a longitude near 126°), or when rounding stops the error from
	// shrinking.
	tolerance = 1e-14
	// maxIterations bounds the inverse; it converges in about 7 steps.
	maxIterations = 50
)

// OutOfChina reports whether lon, lat (degrees) lies outside the rectangle
// in which GCJ-02 offsets apply (72.004–137.8347°E, 0.8293–55.8271°N). There
// both conversions return the input unchanged. The rectangle is coarse: it
// includes parts of neighbouring countries, just as the published code does.
func OutOfChina(lon, lat float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// FromWGS84 converts WGS 84 (or CGCS2000) longitude, latitude in degrees to
// GCJ-02 longitude, latitude in degrees with the published forward formula.
// Points outside China (see OutOfChina) and NaN input pass through unchanged.
func FromWGS84(lon, lat float64) (gcjLon, gcjLat float64) {
	if OutOfChina(lon, lat) || math.IsNaN(lon) || math.IsNaN(lat) {
		return lon, lat
	}
	dLon, dLat := offset(lon, lat)
	return lon + dLon, lat + dLat
}

// ToWGS84 converts GCJ-02 longitude, latitude in degrees to WGS 84 degrees,
// used as CGCS2000 (EPSG:4490) by the importer. It returns the point whose
// FromWGS84 image equals the input to float64 rounding, about 1e-14° or
// 1e-9 m (see the package comment for the measured error); it takes 3–7
// evaluations of the forward formula. Points outside China and NaN pass
// through unchanged. Near the edge of the OutOfChina rectangle the inverse
// is only as good as the published formula's own discontinuity there.
func ToWGS84(gcjLon, gcjLat float64) (lon, lat float64) {
	if OutOfChina(gcjLon, gcjLat) || math.IsNaN(gcjLon) || math.IsNaN(gcjLat) {
		return gcjLon, gcjLat
	}
	// Solve F(w) = w + offset(w) = g. Start from w = g and iterate
	// w ← w + (g − F(w)). This converges because offset changes slowly: its
	// derivative is at most a few 1e-3 (degree per degree), so each step
	// gains two to three digits.
	var bestLon, bestLat float64
	lon, lat = gcjLon, gcjLat
	best := math.Inf(1)
	for i := 0; i < maxIterations; i++ {
		fLon, fLat := FromWGS84(lon, lat)
		eLon, eLat := gcjLon-fLon, gcjLat-fLat
		e := math.Max(math.Abs(eLon), math.Abs(eLat))
		if e >= best {
			// Float64 rounding stops further progress: keep the previous,
			// at least as good point (within a few ulp).
			return bestLon, bestLat
		}
		best, bestLon, bestLat = e, lon, lat
		if e < tolerance {
			break
		}
		lon += eLon
		lat += eLat
	}
	return bestLon, bestLat
}

// offset returns the GCJ-02 offset in degrees at a WGS 84 point.
func offset(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105.0, lat-35.0
	dLat = transformLat(x, y)
	dLon = transformLon(x, y)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - ee*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - ee)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLon, dLat
}

func transformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func transformLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// ToWGS84Point is ToWGS84 for an orb.Point (lon, lat); it is an
// orb.Projection.
func ToWGS84Point(p orb.Point) orb.Point {
	lon, lat := ToWGS84(p[0], p[1])
	return orb.Point{lon, lat}
}

// FromWGS84Point is FromWGS84 for an orb.Point (lon, lat); it is an
// orb.Projection.
func FromWGS84Point(p orb.Point) orb.Point {
	lon, lat := FromWGS84(p[0], p[1])
	return orb.Point{lon, lat}
}

// ToWGS84Geometry converts every vertex of a GCJ-02 geometry (lon, lat
// degrees) to WGS 84 and returns a new geometry of the same type; the input
// is not modified. Ring closure is kept because equal vertices map to equal
// vertices. For orb.Bound only the corners are converted. nil gives nil.
func ToWGS84Geometry(g orb.Geometry) orb.Geometry {
	if g == nil {
		return nil
	}
	return project.Geometry(orb.Clone(g), ToWGS84Point)
}

// FromWGS84Geometry is the forward counterpart of ToWGS84Geometry.
func FromWGS84Geometry(g orb.Geometry) orb.Geometry {
	if g == nil {
		return nil
	}
	return project.Geometry(orb.Clone(g), FromWGS84Point)
}

// ToWGS84Ring converts a GCJ-02 ring to WGS 84 (new ring; input unchanged).
func ToWGS84Ring(r orb.Ring) orb.Ring {
	if r == nil {
		return nil
	}
	return ToWGS84Geometry(r).(orb.Ring)
}

// ToWGS84Polygon converts a GCJ-02 polygon to WGS 84 (new polygon).
func ToWGS84Polygon(p orb.Polygon) orb.Polygon {
	if p == nil {
		return nil
	}
	return ToWGS84Geometry(p).(orb.Polygon)
}

// ToWGS84MultiPolygon converts a GCJ-02 multipolygon to WGS 84 (new value).
func ToWGS84MultiPolygon(mp orb.MultiPolygon) orb.MultiPolygon {
	if mp == nil {
		return nil
	}
	return ToWGS84Geometry(mp).(orb.MultiPolygon)
}
