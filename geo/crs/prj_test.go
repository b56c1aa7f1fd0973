package crs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Copied from `gdalsrsinfo -o wkt_esri EPSG:4530` (GDAL 3.6.2).
const esri4530 = `PROJCS["CGCS2000_3_Degree_GK_Zone_42",
    GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",
        DATUM["D_China_2000",
            SPHEROID["CGCS2000",6378137.0,298.257222101]],
        PRIMEM["Greenwich",0.0],
        UNIT["Degree",0.0174532925199433]],
    PROJECTION["Gauss_Kruger"],
    PARAMETER["False_Easting",42500000.0],
    PARAMETER["False_Northing",0.0],
    PARAMETER["Central_Meridian",126.0],
    PARAMETER["Scale_Factor",1.0],
    PARAMETER["Latitude_Of_Origin",0.0],
    UNIT["Meter",1.0]]`

// Copied from `gdalsrsinfo -o wkt1 EPSG:4530` (GDAL 3.6.2).
const wkt1_4530 = `PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 42",
    GEOGCS["China Geodetic Coordinate System 2000",
        DATUM["China_2000",
            SPHEROID["CGCS2000",6378137,298.257222101,
                AUTHORITY["EPSG","1024"]],
            AUTHORITY["EPSG","1043"]],
        PRIMEM["Greenwich",0,
            AUTHORITY["EPSG","8901"]],
        UNIT["degree",0.0174532925199433,
            AUTHORITY["EPSG","9122"]],
        AUTHORITY["EPSG","4490"]],
    PROJECTION["Transverse_Mercator"],
    PARAMETER["latitude_of_origin",0],
    PARAMETER["central_meridian",126],
    PARAMETER["scale_factor",1],
    PARAMETER["false_easting",42500000],
    PARAMETER["false_northing",0],
    UNIT["metre",1,
        AUTHORITY["EPSG","9001"]],
    AXIS["Northing",NORTH],
    AXIS["Easting",EAST],
    AUTHORITY["EPSG","4530"]]`

// gk builds a Gauss-Krüger PROJCS with the given names, for the
// identification-by-parameters cases.
func gkPRJ(projName, geogName, datum, spheroid, method string, a, rf, cm, fe float64, extra string) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return `PROJCS["` + projName + `",GEOGCS["` + geogName + `",DATUM["` + datum + `",SPHEROID["` + spheroid + `",` +
		f(a) + `,` + f(rf) + `]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["` + method +
		`"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",` + f(cm) +
		`],PARAMETER["scale_factor",1],PARAMETER["false_easting",` + f(fe) + `],PARAMETER["false_northing",0]` +
		extra + `,UNIT["metre",1]]`
}

func TestFromPRJ(t *testing.T) {
	tests := []struct {
		name    string
		wkt     string
		want    int
		wantErr []string
	}{
		{"ESRI 4530", esri4530, 4530, nil},
		{"WKT1 4530 with AUTHORITY", wkt1_4530, 4530, nil},
		{"BOM and CRLF", "\ufeff" + strings.ReplaceAll(esri4530, "\n", "\r\n") + "\r\n", 4530, nil},
		{"AUTHORITY wins over name", strings.Replace(wkt1_4530, `AUTHORITY["EPSG","4530"]]`, `AUTHORITY["EPSG","4551"]]`, 1), 4551, nil},
		{"AUTHORITY outside supported set", `GEOGCS["Xian 1980",DATUM["Xian_1980",SPHEROID["IAG 1975",6378140,298.257]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4610"]]`, 4610, nil},
		{"nested AUTHORITY only (base CRS) is not the answer", gkPRJ("My plane", "GCS", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 126, 500000, ""), 4551, nil},
		{"ESRI CM name", `PROJCS["CGCS2000_3_Degree_GK_CM_126E",GEOGCS["x",DATUM["y",SPHEROID["z",1,1]]]]`, 4551, nil},
		{"ESRI 6° names", `PROJCS["CGCS2000_GK_Zone_21",GEOGCS["x",DATUM["y",SPHEROID["z",1,1]]]]`, 4499, nil},
		{"ESRI 6° CM name", `PROJCS["CGCS2000_GK_CM_123E",GEOGCS["x",DATUM["y",SPHEROID["z",1,1]]]]`, 4510, nil},
		{"EPSG name without AUTHORITY", `PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",GEOGCS["x",DATUM["y",SPHEROID["z",1,1]]]]`, 4549, nil},
		{"ESRI geographic", `GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 4490, nil},
		{"OGC geographic name", `GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, 4490, nil},
		{"GCS_WGS_1984", `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 4326, nil},
		{"Web Mercator", `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]`, 3857, nil},
		{"geographic, odd names, CGCS2000 numbers", `GEOGCS["GCS_2000",DATUM["D_2000",SPHEROID["S2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 4490, nil},
		{"geographic, datum CGCS2000, odd spheroid name", `GEOGCS["My GCS",DATUM["CGCS2000",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, 4490, nil},
		{"geographic, WGS84 numbers, odd names", `GEOGCS["GPS",DATUM["D_WGS84",SPHEROID["S",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, 4326, nil},
		{"params: TM on China_2000, prefixed zone 42", gkPRJ("CGCS_2000_GK_42", "GCS_CGCS_2000", "China_2000", "CGCS2000", "Transverse_Mercator", 6378137, 298.257222101, 126, 42500000, ""), 4530, nil},
		{"params: Gauss_Kruger on D_China_2000, zone 40", gkPRJ("Hangzhou", "GCS", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 120, 40500000, ""), 4528, nil},
		{"params: datum by long name, CM 120", gkPRJ("x", "y", "China Geodetic Coordinate System 2000", "S", "Gauss-Kruger", 6378137, 298.257222101, 120, 500000, ""), 4549, nil},
		{"params: only the spheroid numbers", gkPRJ("x", "y", "D_unknown", "S", "Transverse Mercator", 6378137, 298.257222101, 126, 500000, ""), 4551, nil},
		{"params: 6° prefixed zone 21", gkPRJ("x", "y", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 123, 21500000, ""), 4499, nil},
		{"params: CM 123 FE 500000 prefers 3° code", gkPRJ("x", "y", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 123, 500000, ""), 4550, nil},
		{"params: 4 parameters in other order with parentheses", `PROJCS("p",GEOGCS("g",DATUM("CGCS2000",SPHEROID("CGCS2000",6378137,298.257222101))),PROJECTION("Transverse_Mercator"),PARAMETER("False_Easting",42500000),PARAMETER("Central_Meridian",126),UNIT("Meter",1))`, 4530, nil},
		{"params: zone and CM disagree", gkPRJ("Mystery", "y", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 126, 41500000, ""), 0, []string{`"Mystery"`, "zone 41", "--crs EPSG:N"}},
		{"params: scale 0.9996 is UTM-like", strings.Replace(gkPRJ("U", "y", "D_China_2000", "CGCS2000", "Transverse_Mercator", 6378137, 298.257222101, 126, 500000, ""), `"scale_factor",1`, `"scale_factor",0.9996`, 1), 0, []string{"scale factor", "--crs EPSG:N"}},
		{"params: false northing", strings.Replace(gkPRJ("F", "y", "D_China_2000", "CGCS2000", "Transverse_Mercator", 6378137, 298.257222101, 126, 500000, ""), `"false_northing",0`, `"false_northing",100`, 1), 0, []string{"false northing"}},
		{"params: feet", strings.Replace(gkPRJ("Ft", "y", "D_China_2000", "CGCS2000", "Transverse_Mercator", 6378137, 298.257222101, 126, 500000, ""), `UNIT["metre",1]]`, `UNIT["Foot_US",0.3048006096012192]]`, 1), 0, []string{"not the metre"}},
		{"params: CM not a zone meridian", gkPRJ("Local", "y", "D_China_2000", "CGCS2000", "Transverse_Mercator", 6378137, 298.257222101, 125.5, 500000, ""), 0, []string{"whole degree"}},
		{"Xian 1980 plane, ESRI", `PROJCS["Xian_1980_3_Degree_GK_CM_126E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",126.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 0, []string{`"Xian_1980_3_Degree_GK_CM_126E"`, "official parameters", "--crs EPSG:N"}},
		{"Beijing 1954 geographic", `GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 0, []string{`"GCS_Beijing_1954"`, "official parameters"}},
		{"ETRS89 on GRS80 is not CGCS2000", `GEOGCS["ETRS89",DATUM["European_Terrestrial_Reference_System_1989",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, 0, []string{`"ETRS89"`, "--crs EPSG:N"}},
		{"UTM on WGS 84", `PROJCS["WGS_1984_UTM_Zone_51N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",123.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 0, []string{`"WGS_1984_UTM_Zone_51N"`, "--crs EPSG:N"}},
		{"PROJCS named like a geographic CRS", gkPRJ("CGCS2000", "y", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 126, 42500000, ""), 4530, nil},
		{"Albers on CGCS2000", gkPRJ("Albers China", "y", "D_China_2000", "CGCS2000", "Albers", 6378137, 298.257222101, 105, 0, ""), 0, []string{`"Albers China"`, "projection \"Albers\""}},
		{"empty", "  \n", 0, []string{"empty", "--crs EPSG:N"}},
		{"not WKT", "EPSG:4530", 0, []string{"not WKT", "--crs EPSG:N"}},
		{"truncated", esri4530[:200], 0, []string{"not WKT"}},
		{"trailing text", esri4530 + " junk", 0, []string{"not WKT"}},
		{"vertical CRS", `VERT_CS["Yellow Sea 1985 height",VERT_DATUM["Yellow Sea 1985",2005]]`, 0, []string{"not a projected or geographic CRS"}},
	}
	for _, tt := range tests {
		got, err := FromPRJ(tt.wkt)
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("%s: FromPRJ = %d, want an error", tt.name, got)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not contain %q", tt.name, err, w)
				}
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: FromPRJ = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

func TestFromPRJDeepNesting(t *testing.T) {
	s := strings.Repeat("A[", 10000) + strings.Repeat("]", 10000)
	if _, err := FromPRJ(s); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestESRIWKT(t *testing.T) {
	got, err := ESRIWKT(4530)
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`\s*\n\s*`).ReplaceAllString(esri4530, "")
	if got != want {
		t.Errorf("ESRIWKT(4530) =\n%s\nwant\n%s", got, want)
	}
	for _, code := range Supported() {
		s, err := ESRIWKT(code)
		if err != nil {
			t.Errorf("ESRIWKT(%d): %v", code, err)
			continue
		}
		back, err := FromPRJ(s)
		if err != nil || back != code {
			t.Errorf("FromPRJ(ESRIWKT(%d)) = %d, %v", code, back, err)
		}
	}
	if _, err := ESRIWKT(2387); err == nil {
		t.Error("ESRIWKT(2387): want an error")
	}
}

// TestGDALCrossCheck compares with GDAL/PROJ when gdalsrsinfo is installed:
//   - ESRIWKT(N) is identical to `gdalsrsinfo --single-line -o wkt_esri EPSG:N`
//     for every supported code, and `gdalsrsinfo -o epsg` on the .prj file
//     (a file, as ArcGIS would leave it) gives N back for the listed codes;
//   - FromPRJ of GDAL's wkt_esri, wkt1 and wkt2 output returns N;
//   - the EPSG name in GDAL's wkt1 matches Lookup(N).Name.
//
// (GDAL 3.6 calls the ESRI output "wkt_esri"; there is no "wkt1_esri".)
func TestGDALCrossCheck(t *testing.T) {
	gdal, err := exec.LookPath("gdalsrsinfo")
	if err != nil {
		t.Fatal("gdalsrsinfo (GDAL) not installed: apt-get install gdal-bin (make test installs it)")
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(gdal, args...).Output()
		return strings.TrimSpace(string(out)), err
	}
	identify := map[int]bool{4490: true, 4530: true, 4551: true, 4499: true, 4528: true, 4549: true, 4326: true, 3857: true, 4510: true, 4513: true, 4554: true}
	dir := t.TempDir()
	nameRE := regexp.MustCompile(`^(?:PROJCS|GEOGCS)\["([^"]+)"`)

	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, code := range Supported() {
		wg.Add(1)
		go func(code int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _ := Lookup(code)
			mine, _ := ESRIWKT(code)
			esri, err := run("--single-line", "-o", "wkt_esri", "EPSG:"+strconv.Itoa(code))
			if err != nil {
				t.Errorf("gdalsrsinfo wkt_esri EPSG:%d: %v", code, err)
				return
			}
			if esri != mine {
				t.Errorf("EPSG:%d ESRI WKT differs:\n ours %s\n gdal %s", code, mine, esri)
			}
			if got, err := FromPRJ(esri); err != nil || got != code {
				t.Errorf("FromPRJ(gdal wkt_esri EPSG:%d) = %d, %v", code, got, err)
			}
			wkt1, err := run("-o", "wkt1", "EPSG:"+strconv.Itoa(code))
			if err != nil {
				t.Errorf("gdalsrsinfo wkt1 EPSG:%d: %v", code, err)
				return
			}
			if got, err := FromPRJ(wkt1); err != nil || got != code {
				t.Errorf("FromPRJ(gdal wkt1 EPSG:%d) = %d, %v", code, got, err)
			}
			if wkt2, err := run("-o", "wkt2", "EPSG:"+strconv.Itoa(code)); err != nil {
				t.Errorf("gdalsrsinfo wkt2 EPSG:%d: %v", code, err)
			} else if got, err := FromPRJ(wkt2); err != nil || got != code {
				t.Errorf("FromPRJ(gdal wkt2 EPSG:%d) = %d, %v", code, got, err)
			}
			if m := nameRE.FindStringSubmatch(wkt1); m == nil || m[1] != c.Name {
				t.Errorf("EPSG:%d name: gdal %v, ours %q", code, m, c.Name)
			}
			if !identify[code] {
				return
			}
			prj := filepath.Join(dir, strconv.Itoa(code)+".prj")
			if err := os.WriteFile(prj, []byte(mine), 0o644); err != nil {
				t.Error(err)
				return
			}
			out, err := run("-o", "epsg", prj)
			if err != nil || !strings.Contains(out, "EPSG:"+strconv.Itoa(code)) {
				t.Errorf("gdalsrsinfo -o epsg on ESRIWKT(%d) = %q, %v", code, out, err)
			}
		}(code)
	}
	wg.Wait()
}

// FuzzFromPRJ checks that FromPRJ and ParseURI never panic on hostile text.
func FuzzFromPRJ(f *testing.F) {
	f.Add(esri4530)
	f.Add(wkt1_4530)
	f.Add(gkPRJ("x", "y", "D_China_2000", "CGCS2000", "Gauss_Kruger", 6378137, 298.257222101, 126, 42500000, ""))
	f.Add("urn:ogc:def:crs:EPSG::4530")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = FromPRJ(s)
		_, _ = ParseURI(s)
	})
}
