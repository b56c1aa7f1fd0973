package crs

import "math"

// Domain is the range of coordinates a CRS accepts as input, in its own
// units and in east/north order (longitude/latitude degrees, or easting/
// northing metres) whatever the CRS's axis order.
type Domain struct {
	MinEast, MinNorth, MaxEast, MaxNorth float64
	// Unit is "°" or "m".
	Unit string
}

// Contains reports whether (east, north) lies in the domain, borders
// included; NaN and infinities never do.
func (d Domain) Contains(east, north float64) bool {
	return east >= d.MinEast && east <= d.MaxEast && north >= d.MinNorth && north <= d.MaxNorth
}

// webMercatorLimit is the half-width of the EPSG:3857 square in metres
// (π · 6 378 137 m).
const webMercatorLimit = 20037508.342789244

// cgcs2000A and cgcs2000F are the semi-major axis (m) and flattening of the
// CGCS2000 ellipsoid.
const (
	cgcs2000A = 6378137.0
	cgcs2000F = 1 / 298.257222101
)

// Domain returns the coordinates the CRS is meant to take:
//
//   - geographic: longitude −180…180°, latitude −90…90°;
//   - Web Mercator: ±20 037 508.34 m on both axes;
//   - Gauss-Krüger: the plane rectangle around Area (the zone band widened
//     by ZoneMargin, latitude 0–55°N): easting FalseEasting ± the band's
//     half-width at the equator, northing 0 … the meridian arc to 55°N,
//     both widened by 1 % for the transverse-Mercator stretch off the
//     central meridian. Coordinates outside it are not in the zone: a
//     projection there is meaningless (or fails in PROJ far enough out).
//
// The rectangle is a plausibility bound, not the exact image of Area.
func (c CRS) Domain() Domain {
	switch c.Kind {
	case WebMercator:
		return Domain{-webMercatorLimit, -webMercatorLimit, webMercatorLimit, webMercatorLimit, "m"}
	case GaussKruger:
		dl := (c.Area.MaxLon - c.CentralMeridian) * math.Pi / 180
		half := cgcs2000A * math.Atanh(math.Sin(dl)) * 1.01
		north := meridianArc(c.Area.MaxLat*math.Pi/180) * 1.01
		return Domain{c.FalseEasting - half, 0, c.FalseEasting + half, north, "m"}
	}
	return Domain{-180, -90, 180, 90, "°"}
}

// meridianArc is the length in metres of the CGCS2000 meridian from the
// equator to latitude phi (radians), by the usual series in e².
func meridianArc(phi float64) float64 {
	e2 := cgcs2000F * (2 - cgcs2000F)
	e4, e6 := e2*e2, e2*e2*e2
	return cgcs2000A * ((1-e2/4-3*e4/64-5*e6/256)*phi -
		(3*e2/8+3*e4/32+45*e6/1024)*math.Sin(2*phi) +
		(15*e4/256+45*e6/1024)*math.Sin(4*phi) -
		(35*e6/3072)*math.Sin(6*phi))
}
