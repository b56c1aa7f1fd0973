package crs

import (
	"strconv"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		epsg      int
		name      string
		esri      string
		kind      Kind
		width     int
		zone      int
		prefix    bool
		cm, fe    float64
		axis      AxisOrder
		minLon    float64
		maxLon    float64
		inAreaLon float64
	}{
		{4326, "WGS 84", "GCS_WGS_1984", Geographic, 0, 0, false, 0, 0, NorthEast, -180, 180, 0},
		{4490, "China Geodetic Coordinate System 2000", "GCS_China_Geodetic_Coordinate_System_2000", Geographic, 0, 0, false, 0, 0, NorthEast, 73.62, 134.77, 125.6},
		{3857, "WGS 84 / Pseudo-Mercator", "WGS_1984_Web_Mercator_Auxiliary_Sphere", WebMercator, 0, 0, false, 0, 0, EastNorth, -180, 180, 0},
		{4491, "CGCS2000 / Gauss-Kruger zone 13", "CGCS2000_GK_Zone_13", GaussKruger, 6, 13, true, 75, 13500000, NorthEast, 71.5, 78.5, 75},
		{4499, "CGCS2000 / Gauss-Kruger zone 21", "CGCS2000_GK_Zone_21", GaussKruger, 6, 21, true, 123, 21500000, NorthEast, 119.5, 126.5, 125.6},
		{4500, "CGCS2000 / Gauss-Kruger zone 22", "CGCS2000_GK_Zone_22", GaussKruger, 6, 22, true, 129, 22500000, NorthEast, 125.5, 132.5, 129},
		{4501, "CGCS2000 / Gauss-Kruger zone 23", "CGCS2000_GK_Zone_23", GaussKruger, 6, 23, true, 135, 23500000, NorthEast, 131.5, 138.5, 135},
		{4502, "CGCS2000 / Gauss-Kruger CM 75E", "CGCS2000_GK_CM_75E", GaussKruger, 6, 13, false, 75, 500000, NorthEast, 71.5, 78.5, 75},
		{4510, "CGCS2000 / Gauss-Kruger CM 123E", "CGCS2000_GK_CM_123E", GaussKruger, 6, 21, false, 123, 500000, NorthEast, 119.5, 126.5, 123},
		{4512, "CGCS2000 / Gauss-Kruger CM 135E", "CGCS2000_GK_CM_135E", GaussKruger, 6, 23, false, 135, 500000, NorthEast, 131.5, 138.5, 135},
		{4513, "CGCS2000 / 3-degree Gauss-Kruger zone 25", "CGCS2000_3_Degree_GK_Zone_25", GaussKruger, 3, 25, true, 75, 25500000, NorthEast, 73, 77, 75},
		{4528, "CGCS2000 / 3-degree Gauss-Kruger zone 40", "CGCS2000_3_Degree_GK_Zone_40", GaussKruger, 3, 40, true, 120, 40500000, NorthEast, 118, 122, 120.2},
		{4530, "CGCS2000 / 3-degree Gauss-Kruger zone 42", "CGCS2000_3_Degree_GK_Zone_42", GaussKruger, 3, 42, true, 126, 42500000, NorthEast, 124, 128, 125.6},
		{4533, "CGCS2000 / 3-degree Gauss-Kruger zone 45", "CGCS2000_3_Degree_GK_Zone_45", GaussKruger, 3, 45, true, 135, 45500000, NorthEast, 133, 137, 135},
		{4534, "CGCS2000 / 3-degree Gauss-Kruger CM 75E", "CGCS2000_3_Degree_GK_CM_75E", GaussKruger, 3, 25, false, 75, 500000, NorthEast, 73, 77, 75},
		{4549, "CGCS2000 / 3-degree Gauss-Kruger CM 120E", "CGCS2000_3_Degree_GK_CM_120E", GaussKruger, 3, 40, false, 120, 500000, NorthEast, 118, 122, 120.2},
		{4551, "CGCS2000 / 3-degree Gauss-Kruger CM 126E", "CGCS2000_3_Degree_GK_CM_126E", GaussKruger, 3, 42, false, 126, 500000, NorthEast, 124, 128, 125.6},
		{4554, "CGCS2000 / 3-degree Gauss-Kruger CM 135E", "CGCS2000_3_Degree_GK_CM_135E", GaussKruger, 3, 45, false, 135, 500000, NorthEast, 133, 137, 135},
	}
	for _, tt := range tests {
		c, ok := Lookup(tt.epsg)
		if !ok {
			t.Errorf("Lookup(%d): not found", tt.epsg)
			continue
		}
		if c.EPSG != tt.epsg || c.Name != tt.name || c.ESRIName != tt.esri || c.Kind != tt.kind ||
			c.ZoneWidth != tt.width || c.Zone != tt.zone || c.ZonePrefix != tt.prefix ||
			c.CentralMeridian != tt.cm || c.FalseEasting != tt.fe || c.Axis != tt.axis || c.CRS84 {
			t.Errorf("Lookup(%d) = %+v", tt.epsg, c)
		}
		if c.Area.MinLon != tt.minLon || c.Area.MaxLon != tt.maxLon || !c.Area.Contains(tt.inAreaLon, 43.5) {
			t.Errorf("Lookup(%d).Area = %+v", tt.epsg, c.Area)
		}
		if want := "http://www.opengis.net/def/crs/EPSG/0/" + strconv.Itoa(tt.epsg); c.URI() != want {
			t.Errorf("Lookup(%d).URI() = %q", tt.epsg, c.URI())
		}
		if c.Kind == GaussKruger && c.Datum != DatumCGCS2000 {
			t.Errorf("Lookup(%d).Datum = %q", tt.epsg, c.Datum)
		}
	}
	for _, bad := range []int{0, -1, 4489, 4490 + 1000, 4555, 2387, 32651, 4214} {
		if c, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%d) = %+v, want not found", bad, c)
		}
	}
	if n := len(Supported()); n != 3+64 {
		t.Errorf("Supported() has %d codes, want 67", n)
	}
}

func TestCRS84(t *testing.T) {
	c := CRS84()
	if !c.CRS84 || c.EPSG != 4326 || c.Axis != EastNorth || c.URI() != CRS84URI || c.String() != "OGC:CRS84" {
		t.Errorf("CRS84() = %+v", c)
	}
	if c4326, _ := Lookup(4326); c4326.Axis != NorthEast || c4326.CRS84 || c4326.String() != "EPSG:4326" {
		t.Errorf("EPSG:4326 = %+v", c4326)
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		in      string
		epsg    int
		crs84   bool
		wantErr string
	}{
		{"EPSG:4530", 4530, false, ""},
		{"epsg:4551", 4551, false, ""},
		{"  EPSG:4490 ", 4490, false, ""},
		{"[EPSG:3857]", 3857, false, ""},
		{"http://www.opengis.net/def/crs/EPSG/0/4530", 4530, false, ""},
		{"https://www.opengis.net/def/crs/EPSG/0/4528", 4528, false, ""},
		{"http://www.opengis.net/def/crs/EPSG/9.9.1/4499/", 4499, false, ""},
		{"urn:ogc:def:crs:EPSG::4549", 4549, false, ""},
		{"urn:ogc:def:crs:EPSG:6.6:4326", 4326, false, ""},
		{"URN:OGC:DEF:CRS:EPSG::4490", 4490, false, ""},
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, true, ""},
		{"urn:ogc:def:crs:OGC:1.3:CRS84", 4326, true, ""},
		{"OGC:CRS84", 4326, true, ""},
		{"CRS84", 4326, true, ""},
		{"EPSG:2387", 0, false, "not supported"},
		{"EPSG:abc", 0, false, "not a positive integer"},
		{"EPSG:-4490", 0, false, "not a positive integer"},
		{"ESRI:102100", 0, false, "authority"},
		{"http://example.com/crs/4490", 0, false, "not an OGC CRS URI"},
		{"http://www.opengis.net/def/crs/EPSG/4490", 0, false, "want"},
		{"urn:ogc:def:crs:EPSG:4490", 0, false, "want"},
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS83", 0, false, "only OGC CRS84"},
		{"4490", 0, false, "not a CRS identifier"},
		{"", 0, false, "not a CRS identifier"},
	}
	for _, tt := range tests {
		c, err := ParseURI(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURI(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tt.in, err)
			continue
		}
		if c.EPSG != tt.epsg || c.CRS84 != tt.crs84 {
			t.Errorf("ParseURI(%q) = %v (CRS84 %v), want %d (CRS84 %v)", tt.in, c.EPSG, c.CRS84, tt.epsg, tt.crs84)
		}
		// The URI round-trips.
		if back, err := ParseURI(c.URI()); err != nil || back != c {
			t.Errorf("ParseURI(%q).URI() does not round-trip: %v %v", tt.in, back, err)
		}
	}
}

func TestGKZoneForLongitude(t *testing.T) {
	tests := []struct {
		lon          float64
		zone3, zone6 int
	}{
		{125.4, 42, 21}, // 双阳区 west edge
		{126.1, 42, 22}, // 双阳区 east edge: 6° zone border is 126°E
		{125.659, 42, 21},
		{124.5, 42, 21}, // 3° border goes east
		{124.49, 41, 21},
		{127.5, 43, 22},
		{120.2, 40, 21}, // 杭州
		{75, 25, 13},
		{135, 45, 23},
		{123, 41, 21},
	}
	for _, tt := range tests {
		if got := GKZone3ForLongitude(tt.lon); got != tt.zone3 {
			t.Errorf("GKZone3ForLongitude(%v) = %d, want %d", tt.lon, got, tt.zone3)
		}
		if got := GKZone6ForLongitude(tt.lon); got != tt.zone6 {
			t.Errorf("GKZone6ForLongitude(%v) = %d, want %d", tt.lon, got, tt.zone6)
		}
	}
}

func TestEPSGForZone(t *testing.T) {
	tests := []struct {
		width, zone int
		prefix      bool
		want        int
		wantErr     bool
	}{
		{3, 42, true, 4530, false},
		{3, 42, false, 4551, false},
		{3, 40, true, 4528, false},
		{3, 40, false, 4549, false},
		{3, 25, true, 4513, false},
		{3, 25, false, 4534, false},
		{3, 45, true, 4533, false},
		{3, 45, false, 4554, false},
		{3, 24, true, 0, true},
		{3, 46, false, 0, true},
		{3, 21, true, 0, true},
		{6, 21, true, 4499, false},
		{6, 21, false, 4510, false},
		{6, 13, true, 4491, false},
		{6, 13, false, 4502, false},
		{6, 23, true, 4501, false},
		{6, 23, false, 4512, false},
		{6, 42, true, 0, true},
		{6, 12, false, 0, true},
	}
	for _, tt := range tests {
		f := EPSGFor3DegreeZone
		if tt.width == 6 {
			f = EPSGFor6DegreeZone
		}
		got, err := f(tt.zone, tt.prefix)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("EPSGFor%dDegreeZone(%d, %v) = %d, %v; want %d, error %v", tt.width, tt.zone, tt.prefix, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			c, _ := Lookup(got)
			if c.Zone != tt.zone || c.ZonePrefix != tt.prefix || c.ZoneWidth != tt.width {
				t.Errorf("Lookup(%d) = zone %d prefix %v width %d", got, c.Zone, c.ZonePrefix, c.ZoneWidth)
			}
		}
	}
	// The DOMAIN.md §5 formula for the codes without prefix: 4534 + (CM−75)/3.
	for zone := Min3DegreeZone; zone <= Max3DegreeZone; zone++ {
		got, _ := EPSGFor3DegreeZone(zone, false)
		if want := 4534 + (3*zone-75)/3; got != want {
			t.Errorf("zone %d: %d, want %d", zone, got, want)
		}
		got, _ = EPSGFor3DegreeZone(zone, true)
		if want := 4488 + zone; got != want {
			t.Errorf("zone %d prefix: %d, want %d", zone, got, want)
		}
	}
}

func TestDetectFromEasting(t *testing.T) {
	tests := []struct {
		name       string
		easting    float64
		width      int
		headerZone int
		epsg, zone int
		wantErr    string
	}{
		{"real jzd file", 40520986.477, 3, 40, 4528, 40, ""},
		{"prefix, no header", 40520986.477, 3, 0, 4528, 40, ""},
		{"双阳 prefixed", 42512345.6, 3, 42, 4530, 42, ""},
		{"双阳 plain with header", 512345.6, 3, 42, 4551, 42, ""},
		{"prefix disagrees with header", 40520986.477, 3, 42, 0, 0, "carries zone 40 but the header says zone (带号) 42"},
		{"plain without header", 512345.6, 3, 0, 0, 0, "no zone number"},
		{"plain, header zone invalid", 512345.6, 3, 99, 0, 0, "outside"},
		{"6° prefix as 3°", 21512345.6, 3, 0, 0, 0, "outside"},
		{"6° prefix", 21512345.6, 6, 21, 4499, 21, ""},
		{"6° plain", 512345.6, 6, 21, 4510, 21, ""},
		{"between", 3512345.6, 3, 42, 0, 0, "neither"},
		{"negative", -5, 3, 42, 0, 0, "not a Gauss-Krüger easting"},
		{"zero", 0, 3, 42, 0, 0, "not a Gauss-Krüger easting"},
		{"remainder zero", 42000000, 3, 42, 0, 0, "remainder"},
		{"bad width", 42512345.6, 4, 42, 0, 0, "zone width"},
	}
	for _, tt := range tests {
		var epsg, zone int
		var err error
		if tt.width == 3 {
			epsg, zone, err = Detect3DegreeFromEasting(tt.easting, tt.headerZone)
		} else {
			epsg, zone, err = DetectFromEasting(tt.easting, tt.width, tt.headerZone)
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || epsg != tt.epsg || zone != tt.zone {
			t.Errorf("%s: = %d, %d, %v; want %d, %d", tt.name, epsg, zone, err, tt.epsg, tt.zone)
		}
	}
}
