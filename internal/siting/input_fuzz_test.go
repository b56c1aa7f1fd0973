package siting_test

import (
	"errors"
	"math"
	"os"
	"testing"

	"villageplan/data/testdata"
	"villageplan/geo/crs"
	"villageplan/internal/siting"
)

// checkParsed asserts what a parsed site or a refusal must be: a refusal
// is an *siting.InputError with both messages; an accepted site is a
// non-empty MultiPolygon of rings of at least 4 finite positions in a CRS
// the service knows.
func checkParsed(t *testing.T, what string, sites []siting.Site, err error) {
	t.Helper()
	if err != nil {
		var ie *siting.InputError
		if !errors.As(err, &ie) || ie.ZH == "" || ie.EN == "" {
			t.Fatalf("%s: refused with %T %v, want an *InputError in Chinese and English", what, err, err)
		}
		return
	}
	if len(sites) == 0 {
		t.Fatalf("%s: neither a site nor an error", what)
	}
	for _, s := range sites {
		if _, ok := crs.Lookup(s.SRID); !ok {
			t.Fatalf("%s: accepted in unknown SRID %d", what, s.SRID)
		}
		if len(s.Geometry) == 0 {
			t.Fatalf("%s: accepted an empty site", what)
		}
		for _, p := range s.Geometry {
			if len(p) == 0 {
				t.Fatalf("%s: accepted a polygon without rings", what)
			}
			for _, r := range p {
				if len(r) < 4 {
					t.Fatalf("%s: accepted a ring of %d positions", what, len(r))
				}
				for _, pt := range r {
					if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
						t.Fatalf("%s: accepted a non-finite position %v", what, pt)
					}
				}
			}
		}
	}
}

// FuzzParseGeoJSONSite feeds arbitrary JSON and CRS names to the GeoJSON
// site reader of POST /siting/checks and /desk/preview.
func FuzzParseGeoJSONSite(f *testing.F) {
	for _, rel := range []string{"geojson-fixtures/geometry/polygon.geojson", "geojson-fixtures/geometry/multipolygon.geojson",
		"geojson-fixtures/feature/one.geojson", "geojson-fixtures/geometry/polygon-xyz.geojson", "geojson-fixtures/geometry/point.geojson"} {
		b, err := os.ReadFile(testdata.Real(f, rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	for _, s := range []struct{ site, crs string }{
		{`{"type":"Polygon","coordinates":[[[125.76,43.60],[125.77,43.60],[125.77,43.61],[125.76,43.60]]]}`, ""},
		{`{"type":"Polygon","coordinates":[[[480650,4829010],[480660,4829010],[480660,4829020],[480650,4829010]]]}`, "EPSG:4551"},
		{`{"type":"Polygon","coordinates":[[[42480650,4829010],[42480660,4829010],[42480660,4829020],[42480650,4829010]]]}`, "http://www.opengis.net/def/crs/EPSG/0/4530"},
		{`{"type":"Polygon","coordinates":[[[42480650,4829010],[42480660,4829010],[42480660,4829020],[42480650,4829010]]]}`, "EPSG:4551"},
		{`{"type":"Feature","properties":{"name":"a\u0000"},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,2],[3,4],[5,6],[1,2]]],[]]}}`, ""},
		{`{"type":"Feature","geometry":null}`, ""}, {`{"type":"GeometryCollection","geometries":[]}`, ""},
		{`{"type":"Polygon","coordinates":[]}`, ""}, {`{"type":"Polygon","coordinates":[[]]}`, "EPSG:3857"},
		{`{"type":"Polygon","coordinates":[[[1e308,1e308],[-1e308,1e308],[1e308,-1e308],[1e308,1e308]]]}`, "EPSG:3857"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, ""}, {`null`, ""}, {`"Polygon"`, ""}, {`{"type":1}`, ""},
		{`{"type":"Polygon","coordinates":[[[125.76,43.60],[125.77,43.60],[125.77,43.61],[125.76,43.60]]]}`, "EPSG:99999"},
	} {
		f.Add([]byte(s.site), s.crs)
	}
	f.Fuzz(func(t *testing.T, raw []byte, crsName string) {
		s, err := siting.ParseGeoJSONSite(raw, crsName)
		var sites []siting.Site
		if err == nil {
			sites = []siting.Site{s}
			if s.Format != "geojson" {
				t.Fatalf("format %q", s.Format)
			}
		}
		checkParsed(t, "GeoJSON site", sites, err)
	})
}

// FuzzParseJZDSites feeds arbitrary bytes to the 界址点 txt site reader
// (the text/plain body of POST /siting/checks and /desk/preview).
func FuzzParseJZDSites(f *testing.F) {
	for _, rel := range []string{"jzd-txt/hangzhou_pengbu_BR14_zone40.txt", "jzd-txt/hangzhou_pengbu_BR14_zone40.gbk_crlf.txt"} {
		b, err := os.ReadFile(testdata.Real(f, rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=42\n[地块坐标]\n4,0.0100,1,大营村1号,面,,,,@\nJ1,1,4829000.000,42480600.000\nJ2,1,4829000.000,42480610.000\nJ3,1,4829010.000,42480610.000\nJ1,1,4829000.000,42480600.000\n",
		"[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=42\n[地块坐标]\n3,0.0100,1,a,面,,,,@\nJ1,1,4829000,42480600\nJ2,1,4829000,42480610\nJ1,1,4829000,42480600\n",
		"[属性描述]\n坐标系=西安80坐标系\n几度分带=6\n带号=21\n[地块坐标]\n", "", "\x00\xff", "[地块坐标]\n1,1,1,\x00,面,,,,@\nJ1,1,1,1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sites, err := siting.ParseJZDSites(raw)
		for _, s := range sites {
			if s.Format != "jzd" {
				t.Fatalf("format %q", s.Format)
			}
		}
		checkParsed(t, "界址点 site", sites, err)
	})
}
