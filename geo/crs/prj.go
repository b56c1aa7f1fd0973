package crs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CGCS2000 ellipsoid (EPSG:1024): semi-major axis in metres and inverse
// flattening. GRS 1980 has the same two numbers to this precision.
const (
	CGCS2000SemiMajor   = 6378137.0
	CGCS2000InvFlat     = 298.257222101
	wgs84InvFlat        = 298.257223563
	invFlatTolerance    = 1e-6
	semiMajorTolerance  = 1e-3 // metres
	paramTolerance      = 1e-6 // degrees or metres
	degreeUnitInRadians = "0.0174532925199433"
)

// FromPRJ identifies the EPSG code of a .prj file (OGC WKT1, ESRI WKT, or
// WKT2 with an ID). It tries, in order:
//
//  1. AUTHORITY["EPSG","N"] (WKT1) or ID["EPSG",N] (WKT2) on the outermost
//     element → N, even when N is not in the supported set (PostGIS may
//     still know it);
//  2. the outermost name, compared by its letters and digits with the EPSG
//     and ESRI names of every supported code and a few aliases
//     ("GCS_China_Geodetic_Coordinate_System_2000", "GCS_WGS_1984",
//     "WGS_1984_Web_Mercator_Auxiliary_Sphere", …);
//  3. for a PROJCS with a Gauss_Kruger or Transverse_Mercator projection on
//     a CGCS2000 datum (datum or ellipsoid named China_2000, D_China_2000,
//     CGCS2000, China Geodetic Coordinate System 2000, or an ellipsoid with
//     a = 6 378 137 m and 1/f = 298.257222101 under a datum that is not
//     recognisably another one such as ETRS89 or NAD83): the parameters
//     central_meridian and false_easting, with scale factor 1, latitude of
//     origin 0, false northing 0 and metre units. False easting 500 000 m
//     gives the 3-degree "CM" code 4534+(CM−75)/3 (the 6-degree CM codes
//     4502–4512 define the same projection; the 3-degree code is preferred
//     because cadastral data uses 3-degree zones); zone·10⁶+500 000 gives
//     the 3-degree zone code (zone 25–45, CM = 3·zone) or the 6-degree zone
//     code (zone 13–23, CM = 6·zone−3);
//  4. for a GEOGCS on a CGCS2000-like datum → 4490; on WGS 84 → 4326.
//
// Errors: text that is not WKT, and a CRS not identified by these rules;
// the message quotes the name found and says to pass --crs EPSG:N. Xian 1980
// and Beijing 1954 are reported as needing official conversion parameters.
func FromPRJ(wkt string) (epsg int, err error) {
	s := strings.TrimSpace(strings.TrimPrefix(wkt, "\ufeff"))
	if s == "" {
		return 0, fmt.Errorf("crs: the .prj is empty; pass --crs EPSG:N")
	}
	root, err := parseWKT(s)
	if err != nil {
		return 0, fmt.Errorf("crs: the .prj is not WKT (%v); pass --crs EPSG:N", err)
	}

	if code, ok := authorityCode(root); ok {
		return code, nil
	}
	projected := root.key == "PROJCS" || root.key == "PROJCRS" || root.key == "PROJECTEDCRS"
	if code, ok := codeByName(root.name()); ok {
		// A name only counts when it names the same kind of CRS: a PROJCS
		// called "CGCS2000" is not EPSG:4490.
		if c, _ := Lookup(code); (c.Kind == Geographic) != projected {
			return code, nil
		}
	}

	switch root.key {
	case "PROJCS", "PROJCRS", "PROJECTEDCRS":
		return fromProjected(root)
	case "GEOGCS", "GEOGCRS", "GEOGRAPHICCRS", "GEODCRS", "GEODETICCRS":
		switch {
		case isCGCS2000(root):
			return 4490, nil
		case isWGS84(root):
			return 4326, nil
		}
		return 0, unknownCRS(root, "")
	}
	return 0, unknownCRS(root, fmt.Sprintf("%s is not a projected or geographic CRS", root.key))
}

// authorityCode reads AUTHORITY["EPSG","N"] or ID["EPSG",N] of the outermost
// element only: nested ones name the base CRS, datum or unit.
func authorityCode(root *wktNode) (int, bool) {
	for _, k := range root.kids {
		if k.key != "AUTHORITY" && k.key != "ID" {
			continue
		}
		t := k.texts()
		if len(t) < 2 || !strings.EqualFold(strings.TrimSpace(t[0]), "EPSG") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(t[1]))
		if err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}

// codeByName matches a CRS name against the supported codes and aliases.
func codeByName(name string) (int, bool) {
	key := norm(name)
	if key == "" {
		return 0, false
	}
	switch key {
	case norm("China Geodetic Coordinate System 2000"), norm("GCS_China_Geodetic_Coordinate_System_2000"),
		norm("CGCS2000"), norm("GCS_CGCS2000"), norm("CGCS_2000"):
		return 4490, true
	case norm("WGS 84"), norm("GCS_WGS_1984"), norm("WGS_1984"):
		return 4326, true
	case norm("WGS 84 / Pseudo-Mercator"), norm("WGS_1984_Web_Mercator_Auxiliary_Sphere"),
		norm("WGS_1984_Web_Mercator"), norm("Popular Visualisation CRS / Mercator"):
		return 3857, true
	}
	for _, code := range Supported() {
		c, _ := Lookup(code)
		if key == norm(c.Name) || key == norm(c.ESRIName) {
			return code, true
		}
	}
	return 0, false
}

func fromProjected(root *wktNode) (int, error) {
	geog := root.child("GEOGCS", "BASEGEOGCRS", "BASEGEODCRS", "GEOGCRS")
	if geog == nil || !isCGCS2000(geog) {
		return 0, unknownCRS(root, "")
	}

	method, params := "", root
	if p := root.child("PROJECTION"); p != nil {
		method = p.name()
	} else if conv := root.child("CONVERSION"); conv != nil {
		params = conv
		if m := conv.child("METHOD"); m != nil {
			method = m.name()
		}
	}
	switch norm(method) {
	case "gausskruger", "transversemercator", "gaussianprojection", "gausskrugerprojection":
	default:
		return 0, unknownCRS(root, fmt.Sprintf("projection %q is not Gauss-Krüger/Transverse Mercator", method))
	}
	if u := root.child("UNIT"); u != nil {
		t := u.texts()
		if len(t) >= 2 {
			if f, err := strconv.ParseFloat(t[1], 64); err != nil || math.Abs(f-1) > paramTolerance {
				return 0, unknownCRS(root, fmt.Sprintf("unit %q is not the metre", u.name()))
			}
		}
	}

	vals := map[string]float64{}
	for _, p := range params.children("PARAMETER") {
		t := p.texts()
		if len(t) < 2 {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(t[1]), 64)
		if err != nil {
			continue
		}
		switch norm(t[0]) {
		case "centralmeridian", "longitudeofnaturalorigin", "longitudeoforigin", "longitudeofcenter":
			vals["cm"] = f
		case "falseeasting":
			vals["fe"] = f
		case "falsenorthing":
			vals["fn"] = f
		case "scalefactor", "scalefactoratnaturalorigin":
			vals["k"] = f
		case "latitudeoforigin", "latitudeofnaturalorigin", "latitudeofcenter":
			vals["lat0"] = f
		}
	}
	cm, okCM := vals["cm"]
	fe, okFE := vals["fe"]
	if !okCM || !okFE {
		return 0, unknownCRS(root, "central_meridian or false_easting missing")
	}
	if k, ok := vals["k"]; ok && math.Abs(k-1) > paramTolerance {
		return 0, unknownCRS(root, fmt.Sprintf("scale factor %v is not 1", k))
	}
	if fn := vals["fn"]; math.Abs(fn) > paramTolerance {
		return 0, unknownCRS(root, fmt.Sprintf("false northing %v is not 0", fn))
	}
	if lat0 := vals["lat0"]; math.Abs(lat0) > paramTolerance {
		return 0, unknownCRS(root, fmt.Sprintf("latitude of origin %v is not 0", lat0))
	}
	icm := int(math.Round(cm))
	if math.Abs(cm-float64(icm)) > paramTolerance {
		return 0, unknownCRS(root, fmt.Sprintf("central meridian %v is not a whole degree", cm))
	}

	if math.Abs(fe-500000) <= paramTolerance {
		if icm < 75 || icm > 135 || icm%3 != 0 {
			return 0, unknownCRS(root, fmt.Sprintf("central meridian %d°E is not a CGCS2000 zone meridian (75–135, step 3)", icm))
		}
		return EPSGFor3DegreeZone(icm/3, false)
	}
	zone := int(math.Round((fe - 500000) / 1e6))
	if zone > 0 && math.Abs(fe-(float64(zone)*1e6+500000)) <= paramTolerance {
		if zone >= Min3DegreeZone && zone <= Max3DegreeZone && icm == 3*zone {
			return EPSGFor3DegreeZone(zone, true)
		}
		if zone >= Min6DegreeZone && zone <= Max6DegreeZone && icm == 6*zone-3 {
			return EPSGFor6DegreeZone(zone, true)
		}
		return 0, unknownCRS(root, fmt.Sprintf("false easting %.0f says zone %d but the central meridian is %d°E", fe, zone, icm))
	}
	return 0, unknownCRS(root, fmt.Sprintf("false easting %v is neither 500000 nor zone·1000000+500000", fe))
}

// datumParts returns the normalised names of the CRS, its datum and its
// ellipsoid, and the ellipsoid's a and 1/f (NaN when absent).
func datumParts(geog *wktNode) (crsName, datum, ellName string, a, rf float64) {
	crsName, a, rf = norm(geog.name()), math.NaN(), math.NaN()
	d := geog.child("DATUM", "GEODETICDATUM", "TRF")
	if d == nil {
		return
	}
	datum = norm(d.name())
	e := d.child("SPHEROID", "ELLIPSOID")
	if e == nil {
		return
	}
	t := e.texts()
	ellName = norm(e.name())
	if len(t) >= 3 {
		if f, err := strconv.ParseFloat(t[1], 64); err == nil {
			a = f
		}
		if f, err := strconv.ParseFloat(t[2], 64); err == nil {
			rf = f
		}
	}
	return
}

// otherDatums are datum name fragments of datums on GRS 1980 (or close to
// it) that are not CGCS2000.
var otherDatums = []string{"wgs", "etrs", "etrf", "nad", "northamerican", "european", "gda",
	"itrf", "sirgas", "jgd", "nzgd", "hartebeesthoek", "xian", "beijing", "korea", "twd",
	"hongkong", "macao", "pulkovo", "ed50", "osgb", "rgf", "posgar", "mgi"}

func isCGCS2000(geog *wktNode) bool {
	crsName, datum, ellName, a, rf := datumParts(geog)
	for _, s := range []string{crsName, datum, ellName} {
		if strings.Contains(s, "cgcs2000") || strings.Contains(s, "china2000") ||
			strings.Contains(s, "chinageodeticcoordinatesystem2000") {
			return true
		}
	}
	if math.Abs(a-CGCS2000SemiMajor) > semiMajorTolerance || math.Abs(rf-CGCS2000InvFlat) > invFlatTolerance {
		return false
	}
	for _, o := range otherDatums {
		if strings.Contains(datum, o) || strings.Contains(crsName, o) {
			return false
		}
	}
	return true
}

func isWGS84(geog *wktNode) bool {
	crsName, datum, _, a, rf := datumParts(geog)
	for _, s := range []string{crsName, datum} {
		if strings.Contains(s, "wgs84") || strings.Contains(s, "wgs1984") {
			return true
		}
	}
	return math.Abs(a-CGCS2000SemiMajor) <= semiMajorTolerance && math.Abs(rf-wgs84InvFlat) <= invFlatTolerance &&
		(datum == "" || strings.Contains(datum, "wgs"))
}

func unknownCRS(root *wktNode, why string) error {
	name := root.name()
	datum := ""
	geog := root
	if root.key != "GEOGCS" && root.key != "GEOGCRS" {
		if g := root.child("GEOGCS", "BASEGEOGCRS", "BASEGEODCRS", "GEOGCRS"); g != nil {
			geog = g
		}
	}
	if d := geog.child("DATUM", "GEODETICDATUM", "TRF"); d != nil {
		datum = d.name()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "crs: cannot identify the CRS %q from the .prj", name)
	if datum != "" {
		fmt.Fprintf(&b, " (datum %q)", datum)
	}
	if why != "" {
		b.WriteString(": " + why)
	}
	if n := norm(name + " " + datum); strings.Contains(n, "xian") || strings.Contains(n, "beijing") ||
		strings.Contains(n, "1980") || strings.Contains(n, "1954") {
		b.WriteString("; Xian 1980 and Beijing 1954 data must first be converted to CGCS2000 with the official parameters")
	}
	b.WriteString("; pass --crs EPSG:N")
	return fmt.Errorf("%s", b.String())
}

// ESRIWKT returns the one-line ESRI WKT that ArcGIS writes to a .prj for a
// supported EPSG code, built from the code's parameters: a GEOGCS
// GCS_China_Geodetic_Coordinate_System_2000 (DATUM D_China_2000, SPHEROID
// CGCS2000 6378137.0 298.257222101) or GCS_WGS_1984, and for Gauss-Krüger a
// PROJCS with PROJECTION["Gauss_Kruger"], False_Easting, False_Northing 0,
// Central_Meridian, Scale_Factor 1, Latitude_Of_Origin 0 and metres. The
// text is identical to `gdalsrsinfo -o wkt_esri EPSG:N` (GDAL 3.6, single
// line). ESRI names the projection Gauss_Kruger, not Transverse_Mercator,
// for these codes; both are the same projection and GDAL reads both.
// Errors: a code outside the supported set.
func ESRIWKT(epsg int) (string, error) {
	c, ok := Lookup(epsg)
	if !ok {
		return "", fmt.Errorf("crs: no ESRI .prj for EPSG:%d: not a supported code", epsg)
	}
	const (
		cgcsGeog  = `GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",` + degreeUnitInRadians + `]]`
		wgs84Geog = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",` + degreeUnitInRadians + `]]`
	)
	switch c.Kind {
	case Geographic:
		if c.Datum == DatumCGCS2000 {
			return cgcsGeog, nil
		}
		return wgs84Geog, nil
	case WebMercator:
		return `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",` + wgs84Geog +
			`,PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]`, nil
	}
	return fmt.Sprintf(`PROJCS["%s",%s,PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",%s],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",%s],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`,
		c.ESRIName, cgcsGeog, esriNum(c.FalseEasting), esriNum(c.CentralMeridian)), nil
}

// esriNum formats a number the way ESRI .prj files do: shortest form, with
// ".0" on whole numbers.
func esriNum(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}
