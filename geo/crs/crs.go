// Package crs holds the facts villageplan needs about the coordinate
// reference systems it accepts: CGCS2000 geographic (EPSG:4490), WGS 84
// (EPSG:4326 and OGC CRS84), Web Mercator (EPSG:3857) and the CGCS2000
// Gauss-Krüger plane systems (3-degree zones EPSG:4513–4554, 6-degree zones
// EPSG:4491–4512).
//
// The package only identifies systems and describes them. It does not
// transform coordinates: reprojection belongs to PostGIS (ST_Transform), which
// knows every code listed here through PROJ.
//
// Sources: EPSG registry (epsg.io/4490, /4530, /4500, checked against
// gdalsrsinfo of GDAL 3.6.2 / PROJ on this machine); DOMAIN.md §5 (code
// formulas 4488+zone and 4534+(CM−75)/3, axis order, telling prefixed and
// unprefixed eastings apart). ESRI names and .prj text follow the ESRI
// projection engine as shipped in PROJ's ESRI database (gdalsrsinfo -o wkt_esri).
package crs

import (
	"fmt"
	"math"
	"strconv"
)

// Datum names used in CRS.Datum.
const (
	DatumCGCS2000 = "CGCS2000"
	DatumWGS84    = "WGS84"
)

// Kind says what sort of coordinates a CRS has.
type Kind int

// Kinds of CRS.
const (
	// Geographic coordinates in degrees (longitude, latitude).
	Geographic Kind = iota + 1
	// WebMercator is EPSG:3857, metres on the spherical Mercator plane.
	WebMercator
	// GaussKruger is a transverse Mercator plane in metres, scale 1.0,
	// latitude of origin 0, false northing 0.
	GaussKruger
)

func (k Kind) String() string {
	switch k {
	case Geographic:
		return "geographic"
	case WebMercator:
		return "web mercator"
	case GaussKruger:
		return "gauss-kruger"
	}
	return "unknown"
}

// AxisOrder is the axis order the authority defines for a CRS. It matters
// for OGC API Features Part 2 (crs= responses), GML and WMS 1.3; GeoJSON,
// WKB/WKT in PostGIS, shapefiles and orb always use easting/longitude first.
type AxisOrder int

// Axis orders.
const (
	// EastNorth is (easting, northing) or (longitude, latitude): EPSG:3857
	// and OGC CRS84.
	EastNorth AxisOrder = iota + 1
	// NorthEast is (northing, easting) or (latitude, longitude): EPSG:4326,
	// EPSG:4490 and every CGCS2000 Gauss-Krüger code (axes "X northing,
	// Y easting", as Chinese survey files write them).
	NorthEast
)

func (a AxisOrder) String() string {
	switch a {
	case EastNorth:
		return "east,north"
	case NorthEast:
		return "north,east"
	}
	return "unknown"
}

// BBox is an area in CGCS2000/WGS 84 degrees (the two differ by centimetres).
type BBox struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// Contains reports whether lon, lat (degrees) lies in the box, borders included.
func (b BBox) Contains(lon, lat float64) bool {
	return lon >= b.MinLon && lon <= b.MaxLon && lat >= b.MinLat && lat <= b.MaxLat
}

// CRS describes one supported coordinate reference system.
type CRS struct {
	// EPSG is the EPSG code. OGC CRS84 has 4326 here and CRS84 set.
	EPSG int
	// CRS84 is true only for OGC CRS84 (WGS 84 with longitude first).
	CRS84 bool
	// Name is the EPSG name, e.g. "CGCS2000 / 3-degree Gauss-Kruger zone 42".
	Name string
	// ESRIName is the name ArcGIS writes in a .prj, e.g.
	// "CGCS2000_3_Degree_GK_Zone_42".
	ESRIName string
	// Kind is geographic, Web Mercator or Gauss-Krüger.
	Kind Kind
	// Datum is DatumCGCS2000 or DatumWGS84.
	Datum string
	// ZoneWidth is 3 or 6 (degrees of longitude) for Gauss-Krüger codes, 0
	// otherwise.
	ZoneWidth int
	// Zone is the Gauss-Krüger zone number in the numbering of ZoneWidth
	// (3°: zone = CM/3, 25–45; 6°: zone = (CM+3)/6, 13–23). It is set for
	// the codes without the zone prefix too. 0 when not Gauss-Krüger.
	Zone int
	// ZonePrefix is true when the easting carries the zone number
	// (false easting = zone·10⁶ + 500 000 m).
	ZonePrefix bool
	// CentralMeridian in degrees east (Gauss-Krüger only).
	CentralMeridian float64
	// FalseEasting in metres (Gauss-Krüger only; 0 otherwise).
	FalseEasting float64
	// Axis is the axis order the authority defines (see AxisOrder).
	Axis AxisOrder
	// Area is where the CRS is meant to be used, in degrees: for
	// Gauss-Krüger the zone band widened by ZoneMargin degrees on each side,
	// latitude 0–55°N (mainland China and its seas reach 3.8°N–53.6°N). EPSG
	// gives tighter onshore boxes; this one is for plausibility checks.
	Area BBox
}

// ZoneMargin is the number of degrees by which Area of a Gauss-Krüger CRS
// extends past the zone band on each side. Surveys near a zone border are
// often computed in the neighbouring zone, so a point slightly outside the
// band is not an error.
const ZoneMargin = 0.5

// Supported code ranges.
const (
	// EPSG codes of CGCS2000 6-degree Gauss-Krüger zones 13–23 with the zone
	// number in the easting.
	First6DegreeZoneEPSG, Last6DegreeZoneEPSG = 4491, 4501
	// EPSG codes of CGCS2000 6-degree Gauss-Krüger CM 75E–135E, false
	// easting 500 000 m.
	First6DegreeCMEPSG, Last6DegreeCMEPSG = 4502, 4512
	// EPSG codes of CGCS2000 3-degree Gauss-Krüger zones 25–45 with the zone
	// number in the easting.
	First3DegreeZoneEPSG, Last3DegreeZoneEPSG = 4513, 4533
	// EPSG codes of CGCS2000 3-degree Gauss-Krüger CM 75E–135E, false
	// easting 500 000 m.
	First3DegreeCMEPSG, Last3DegreeCMEPSG = 4534, 4554
)

// Zone-number limits of the CGCS2000 Gauss-Krüger codes.
const (
	Min3DegreeZone, Max3DegreeZone = 25, 45
	Min6DegreeZone, Max6DegreeZone = 13, 23
)

// URI prefixes.
const (
	epsgURIPrefix = "http://www.opengis.net/def/crs/EPSG/0/"
	// CRS84URI is the OGC URI of WGS 84 longitude/latitude, the default CRS
	// of GeoJSON and OGC API Features.
	CRS84URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
)

// URI returns the OGC URI, e.g. "http://www.opengis.net/def/crs/EPSG/0/4530"
// or CRS84URI.
func (c CRS) URI() string {
	if c.CRS84 {
		return CRS84URI
	}
	return epsgURIPrefix + strconv.Itoa(c.EPSG)
}

// String returns "EPSG:N" or "OGC:CRS84".
func (c CRS) String() string {
	if c.CRS84 {
		return "OGC:CRS84"
	}
	return "EPSG:" + strconv.Itoa(c.EPSG)
}

// CRS84 returns OGC CRS84: WGS 84 with longitude first. It has EPSG 4326
// (the same datum and units) and CRS84 set; only the axis order differs from
// EPSG:4326.
func CRS84() CRS {
	c, _ := Lookup(4326)
	c.CRS84 = true
	c.Name = "WGS 84 (CRS84)"
	c.Axis = EastNorth
	return c
}

// Lookup returns the description of a supported EPSG code: 4326, 4490,
// 3857 and 4491–4554 (CGCS2000 Gauss-Krüger). ok is false for any other code.
func Lookup(epsg int) (c CRS, ok bool) {
	world := BBox{-180, -90, 180, 90}
	switch {
	case epsg == 4326:
		return CRS{EPSG: 4326, Name: "WGS 84", ESRIName: "GCS_WGS_1984",
			Kind: Geographic, Datum: DatumWGS84, Axis: NorthEast, Area: world}, true
	case epsg == 4490:
		return CRS{EPSG: 4490, Name: "China Geodetic Coordinate System 2000",
			ESRIName: "GCS_China_Geodetic_Coordinate_System_2000",
			Kind:     Geographic, Datum: DatumCGCS2000, Axis: NorthEast,
			// EPSG area of use of 4490: China, onshore and offshore.
			Area: BBox{73.62, 16.7, 134.77, 53.56}}, true
	case epsg == 3857:
		return CRS{EPSG: 3857, Name: "WGS 84 / Pseudo-Mercator",
			ESRIName: "WGS_1984_Web_Mercator_Auxiliary_Sphere",
			Kind:     WebMercator, Datum: DatumWGS84, Axis: EastNorth,
			Area: BBox{-180, -85.06, 180, 85.06}}, true
	case epsg >= First6DegreeZoneEPSG && epsg <= Last6DegreeZoneEPSG:
		zone := epsg - First6DegreeZoneEPSG + Min6DegreeZone
		return gk(epsg, 6, zone, true), true
	case epsg >= First6DegreeCMEPSG && epsg <= Last6DegreeCMEPSG:
		zone := epsg - First6DegreeCMEPSG + Min6DegreeZone
		return gk(epsg, 6, zone, false), true
	case epsg >= First3DegreeZoneEPSG && epsg <= Last3DegreeZoneEPSG:
		zone := epsg - First3DegreeZoneEPSG + Min3DegreeZone
		return gk(epsg, 3, zone, true), true
	case epsg >= First3DegreeCMEPSG && epsg <= Last3DegreeCMEPSG:
		zone := epsg - First3DegreeCMEPSG + Min3DegreeZone
		return gk(epsg, 3, zone, false), true
	}
	return CRS{}, false
}

// Supported returns every supported EPSG code in ascending order.
func Supported() []int {
	codes := []int{3857, 4326, 4490}
	for c := First6DegreeZoneEPSG; c <= Last3DegreeCMEPSG; c++ {
		codes = append(codes, c)
	}
	return codes
}

// gk builds a CGCS2000 Gauss-Krüger description.
func gk(epsg, width, zone int, prefix bool) CRS {
	cm := centralMeridian(width, zone)
	c := CRS{
		EPSG: epsg, Kind: GaussKruger, Datum: DatumCGCS2000,
		ZoneWidth: width, Zone: zone, ZonePrefix: prefix,
		CentralMeridian: float64(cm), FalseEasting: 500000,
		Axis: NorthEast,
		Area: BBox{
			MinLon: float64(cm) - float64(width)/2 - ZoneMargin,
			MaxLon: float64(cm) + float64(width)/2 + ZoneMargin,
			MinLat: 0, MaxLat: 55,
		},
	}
	if prefix {
		c.FalseEasting = float64(zone)*1e6 + 500000
	}
	switch {
	case width == 3 && prefix:
		c.Name = fmt.Sprintf("CGCS2000 / 3-degree Gauss-Kruger zone %d", zone)
		c.ESRIName = fmt.Sprintf("CGCS2000_3_Degree_GK_Zone_%d", zone)
	case width == 3:
		c.Name = fmt.Sprintf("CGCS2000 / 3-degree Gauss-Kruger CM %dE", cm)
		c.ESRIName = fmt.Sprintf("CGCS2000_3_Degree_GK_CM_%dE", cm)
	case prefix:
		c.Name = fmt.Sprintf("CGCS2000 / Gauss-Kruger zone %d", zone)
		c.ESRIName = fmt.Sprintf("CGCS2000_GK_Zone_%d", zone)
	default:
		c.Name = fmt.Sprintf("CGCS2000 / Gauss-Kruger CM %dE", cm)
		c.ESRIName = fmt.Sprintf("CGCS2000_GK_CM_%dE", cm)
	}
	return c
}

// centralMeridian of a zone in degrees: 3°: 3·zone; 6°: 6·zone − 3.
func centralMeridian(width, zone int) int {
	if width == 6 {
		return 6*zone - 3
	}
	return 3 * zone
}

// GKZone3ForLongitude returns the 3-degree Gauss-Krüger zone number whose
// band contains lon (degrees east): zone n has central meridian 3n°E and
// covers 3n−1.5 … 3n+1.5. A longitude exactly on a border goes to the
// eastern zone. Example: 双阳区 (125.4–126.1°E) → 42. The result is not
// range-checked; CGCS2000 codes exist for zones 25–45 (75°E–135°E).
func GKZone3ForLongitude(lon float64) int {
	return int(math.Floor(lon/3 + 0.5))
}

// GKZone6ForLongitude returns the 6-degree Gauss-Krüger zone number whose
// band contains lon (degrees east): zone n covers 6(n−1) … 6n with central
// meridian 6n−3. 双阳区 → 21 (CM 123°E). Not range-checked (CGCS2000 codes
// exist for zones 13–23).
func GKZone6ForLongitude(lon float64) int {
	return int(math.Floor(lon/6)) + 1
}

// EPSGFor3DegreeZone returns the EPSG code of CGCS2000 3-degree Gauss-Krüger
// zone (25–45): with the zone number in the easting 4488+zone (4513–4533),
// without it 4534+(CM−75)/3 = 4509+zone (4534–4554). Zones outside 25–45
// are an error.
func EPSGFor3DegreeZone(zone int, withPrefix bool) (int, error) {
	if zone < Min3DegreeZone || zone > Max3DegreeZone {
		return 0, fmt.Errorf("crs: 3-degree zone %d is outside the CGCS2000 zones %d–%d (CM 75°E–135°E)",
			zone, Min3DegreeZone, Max3DegreeZone)
	}
	if withPrefix {
		return First3DegreeZoneEPSG + zone - Min3DegreeZone, nil
	}
	return First3DegreeCMEPSG + (3*zone-75)/3, nil
}

// EPSGFor6DegreeZone returns the EPSG code of CGCS2000 6-degree Gauss-Krüger
// zone (13–23): with the zone number in the easting 4478+zone (4491–4501),
// without it 4502+(CM−75)/6 = 4489+zone (4502–4512).
func EPSGFor6DegreeZone(zone int, withPrefix bool) (int, error) {
	if zone < Min6DegreeZone || zone > Max6DegreeZone {
		return 0, fmt.Errorf("crs: 6-degree zone %d is outside the CGCS2000 zones %d–%d (CM 75°E–135°E)",
			zone, Min6DegreeZone, Max6DegreeZone)
	}
	if withPrefix {
		return First6DegreeZoneEPSG + zone - Min6DegreeZone, nil
	}
	return First6DegreeCMEPSG + (6*zone-3-75)/6, nil
}

// Easting limits used to tell the variants apart (metres).
const (
	// PrefixedEastingMin: an easting above this carries the zone number
	// (DOMAIN.md §5: "easting > 10 000 000").
	PrefixedEastingMin = 10_000_000
	// A Gauss-Krüger easting without the prefix, within the band plus a
	// generous margin, lies in (0, 1 000 000) m; a 3° band at the equator is
	// ±167 km around 500 000 m.
	plainEastingMax = 1_000_000
)

// Detect3DegreeFromEasting finds the CGCS2000 3-degree Gauss-Krüger code of
// an easting in metres (the Y column of a Chinese survey file), following
// DOMAIN.md §5 "Telling the variants apart":
//
//   - easting > 10 000 000 m carries the zone: zone = ⌊E/10⁶⌋, code 4488+zone.
//     If headerZone is not 0 it must equal that zone.
//   - easting in (0, 1 000 000) m has no zone number: the zone comes from
//     headerZone (带号 of the file or layer metadata), code 4509+zone.
//
// Errors: NaN or negative easting, an easting between 1 000 000 and
// 10 000 000 m, a prefix zone outside 25–45 (13–23 would be a 6-degree zone
// number), a prefix that disagrees with headerZone, a remainder E − zone·10⁶
// outside (0, 1 000 000), and an unprefixed easting with headerZone 0.
func Detect3DegreeFromEasting(easting float64, headerZone int) (epsg int, zone int, err error) {
	return DetectFromEasting(easting, 3, headerZone)
}

// DetectFromEasting is Detect3DegreeFromEasting for zone width 3 or 6
// (degrees). For 6-degree zones the codes are 4478+zone (prefix, zones
// 13–23) and 4489+zone (no prefix).
func DetectFromEasting(easting float64, zoneWidth, headerZone int) (epsg int, zone int, err error) {
	if zoneWidth != 3 && zoneWidth != 6 {
		return 0, 0, fmt.Errorf("crs: zone width %d°: only 3° and 6° Gauss-Krüger zones exist", zoneWidth)
	}
	codeFor := EPSGFor3DegreeZone
	if zoneWidth == 6 {
		codeFor = EPSGFor6DegreeZone
	}
	switch {
	case math.IsNaN(easting) || math.IsInf(easting, 0) || easting <= 0:
		return 0, 0, fmt.Errorf("crs: easting %v m is not a Gauss-Krüger easting", easting)
	case easting > PrefixedEastingMin:
		zone = int(math.Floor(easting / 1e6))
		rest := easting - float64(zone)*1e6
		if rest <= 0 || rest >= plainEastingMax {
			return 0, 0, fmt.Errorf("crs: easting %.3f m: remainder %.3f m after the zone number %d is not a plausible easting", easting, rest, zone)
		}
		if headerZone != 0 && headerZone != zone {
			return 0, 0, fmt.Errorf("crs: easting %.3f m carries zone %d but the header says zone (带号) %d", easting, zone, headerZone)
		}
		epsg, err = codeFor(zone, true)
		if err != nil {
			return 0, 0, fmt.Errorf("crs: easting %.3f m carries zone %d: %w", easting, zone, err)
		}
		return epsg, zone, nil
	case easting < plainEastingMax:
		if headerZone == 0 {
			return 0, 0, fmt.Errorf("crs: easting %.3f m has no zone number; the zone (带号) must be given", easting)
		}
		epsg, err = codeFor(headerZone, false)
		if err != nil {
			return 0, 0, err
		}
		return epsg, headerZone, nil
	default:
		return 0, 0, fmt.Errorf("crs: easting %.3f m is neither a zone-prefixed easting (> 10 000 000 m) nor a plain one (< 1 000 000 m)", easting)
	}
}
