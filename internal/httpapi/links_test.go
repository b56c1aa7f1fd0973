package httpapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"villageplan/layers"
)

type linkT struct{ Href, Rel, Type, Title string }

func linksOf(t *testing.T, u string) []linkT {
	t.Helper()
	resp, b := fetch(t, "GET", u, nil)
	var doc struct{ Links []linkT }
	if resp.StatusCode != 200 || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("GET %s = %d %.300s", u, resp.StatusCode, b)
	}
	return doc.Links
}

func findLinks(ls []linkT, rel, typ string) []linkT {
	var out []linkT
	for _, l := range ls {
		if l.Rel == rel && (typ == "" || strings.HasPrefix(l.Type, typ)) {
			out = append(out, l)
		}
	}
	return out
}

// TestResourcesLinkAlternatesAndDownloads: the landing page, collections,
// items pages and features link their HTML/JSON alternates; a collection
// and an items page link every download with its media type and a
// Chinese/English title, and each link answers with that media type; the
// HTML pages list the same links.
func TestResourcesLinkAlternatesAndDownloads(t *testing.T) {
	ts, _ := homesteadFixture(t)
	for _, u := range []string{"/", "/collections", "/collections/homesteads", "/collections/homesteads/items?limit=1", "/collections/homesteads/items/1"} {
		alt := findLinks(linksOf(t, ts.URL+u), "alternate", "text/html")
		if len(alt) != 1 {
			t.Errorf("%s: %d HTML alternates", u, len(alt))
			continue
		}
		resp, b := fetch(t, "GET", alt[0].Href, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: alternate %s = %d %s", u, alt[0].Href, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		// The HTML page links back to the JSON in its head.
		if !strings.Contains(string(b), `<link rel="alternate" type="application/`) {
			t.Errorf("%s: the HTML page has no <link rel=alternate> to its JSON", alt[0].Href)
		}
	}

	col := linksOf(t, ts.URL+"/collections/homesteads")
	downloads := findLinks(col, "enclosure", "")
	if len(downloads) != 6 {
		t.Errorf("homesteads link %d downloads, want 6 (geojson, gpkg, shp, csv, kml, jzd): %+v", len(downloads), downloads)
	}
	for _, d := range downloads {
		if d.Type == "" || !strings.Contains(d.Title, "下载") || !strings.Contains(d.Title, "/") {
			t.Errorf("download link without media type or bilingual title: %+v", d)
		}
		resp, _ := fetch(t, "GET", d.Href, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != d.Type {
			t.Errorf("download %s = %d %s, link says %s", d.Href, resp.StatusCode, resp.Header.Get("Content-Type"), d.Type)
		}
	}
	for _, rel := range []string{"http://www.opengis.net/def/rel/ogc/1.0/queryables", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "items"} {
		for _, l := range findLinks(col, rel, "") {
			if resp, _ := fetch(t, "GET", l.Href, nil); resp.StatusCode != 200 {
				t.Errorf("collection link %s %s = %d", rel, l.Href, resp.StatusCode)
			}
		}
		if len(findLinks(col, rel, "")) == 0 {
			t.Errorf("homesteads has no %s link", rel)
		}
	}
	// A layer that is not polygons offers no 界址点 file.
	for _, l := range layers.Default().Layers() {
		if l.Geometry != layers.MultiPolygon {
			for _, d := range findLinks(linksOf(t, ts.URL+"/collections/"+l.ID), "enclosure", "") {
				if strings.Contains(d.Href, "f=jzd") {
					t.Errorf("%s (%s) links a 界址点 download", l.ID, l.Geometry)
				}
			}
			break
		}
	}

	// An items page's downloads keep its selection and drop its paging.
	page := linksOf(t, ts.URL+"/collections/homesteads/items?limit=1&offset=1&status=%E9%97%B2%E7%BD%AE")
	pd := findLinks(page, "enclosure", "application/geopackage")
	if len(pd) != 1 {
		t.Fatalf("items page GeoPackage links: %+v", pd)
	}
	u, _ := url.Parse(pd[0].Href)
	if q := u.Query(); q.Get("status") != "闲置" || q.Get("limit") != "" || q.Get("offset") != "" || q.Get("f") != "gpkg" {
		t.Errorf("items page download %s", pd[0].Href)
	}

	// The HTML pages list the downloads.
	for _, u := range []string{"/collections/homesteads?f=html", "/collections/homesteads/items?f=html&limit=2"} {
		_, b := fetch(t, "GET", ts.URL+u, nil)
		for _, want := range []string{`f=gpkg" rel="enclosure" type="application/geopackage`, `f=shp`, `f=csv`, `f=kml`, `f=geojson`, `f=jzd`, "GeoPackage"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %s:\n%s", u, want, b[max(0, len(b)-2500):])
			}
		}
	}
	_, b := fetch(t, "GET", ts.URL+"/?f=html", nil)
	if !strings.Contains(string(b), "PAGE_SIZE=1000") {
		t.Error("the landing page does not tell GDAL users about PAGE_SIZE")
	}
}
