package httpapi

import (
	"net/url"
	"strings"

	"villageplan/internal/exports"
	"villageplan/layers"
)

// Link relations of the resources (RFC 8288, OGC API – Common).
const (
	relAlternate = "alternate"
	relEnclosure = "enclosure" // a download of the resource's data as a file
	relTiles     = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
	// relTileJSON links a TileJSON 3.0 document (MapLibre's way into the
	// tiles), described by it.
	relTileJSON  = "describedby"
	relQueryable = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
)

// downloadFormats are the files a layer offers (f= of its items): every
// export format, 界址点 TXT only for polygon layers (exports refuses it
// for the others).
func downloadFormats(l *layers.Layer) []exports.Format {
	var out []exports.Format
	for _, f := range exports.Formats() {
		if f == exports.JZD && l.Geometry != layers.MultiPolygon {
			continue
		}
		out = append(out, f)
	}
	return out
}

// withFormat is href with the query q and f=format (q's own f, limit and
// offset dropped when download is true: a download is the whole result).
func withFormat(href string, q url.Values, format string, download bool) string {
	nv := url.Values{}
	for k, vs := range q {
		if k == "f" || (download && (k == "limit" || k == "offset")) {
			continue
		}
		nv[k] = vs
	}
	if format != "" {
		nv.Set("f", format)
	}
	if len(nv) == 0 {
		return href
	}
	return href + "?" + nv.Encode()
}

// alternateLinks are the other representations of the resource at href
// with query q: its JSON (of media type jsonType) when the current one is
// HTML, its HTML page when the current one is JSON, marked rel alternate.
func alternateLinks(href string, q url.Values, jsonType string, current string) []link {
	if current == "html" {
		return []link{{Href: withFormat(href, q, "json", false), Rel: relAlternate, Type: jsonType, Title: "JSON 格式 / as JSON"}}
	}
	return []link{{Href: withFormat(href, q, "html", false), Rel: relAlternate, Type: "text/html", Title: "网页 / as HTML"}}
}

// downloadLinks are the files of the items at itemsHref selected by q
// (bbox, filter, … kept; paging dropped), one rel "enclosure" link per
// format with its media type and a Chinese and English title.
func downloadLinks(l *layers.Layer, itemsHref string, q url.Values) []link {
	var out []link
	for _, f := range downloadFormats(l) {
		out = append(out, link{Href: withFormat(itemsHref, q, string(f), true), Rel: relEnclosure,
			Type: f.ContentType(), Title: "下载 " + downloadLabel(f)})
	}
	return out
}

// collectionLinks are the links of a collection besides self: its HTML
// page, its items as GeoJSON and HTML, every download, the queryables
// and the vector tiles (TileJSON).
func collectionLinks(base string, l *layers.Layer) []link {
	href := base + "/collections/" + l.ID
	out := []link{
		{Href: href + "?f=html", Rel: relAlternate, Type: "text/html", Title: l.TitleZH + "（网页）/ " + l.TitleEN + " (HTML)"},
		{Href: href + "/items", Rel: "items", Type: "application/geo+json", Title: l.TitleZH + " 要素 / " + l.TitleEN + " features (GeoJSON pages)"},
		{Href: href + "/items?f=html", Rel: "items", Type: "text/html", Title: l.TitleZH + " 要素（网页）/ features (HTML)"},
		{Href: href + "/queryables", Rel: relQueryable, Type: "application/schema+json", Title: "可查询字段 / queryables"},
		{Href: href + "/tiles", Rel: relTiles, Type: "application/json", Title: "矢量瓦片集（OGC API – Tiles）/ vector tilesets (OGC API – Tiles)"},
		{Href: base + "/tiles/" + l.ID + ".json", Rel: relTileJSON, Type: "application/json", Title: "矢量瓦片（TileJSON）/ vector tiles (TileJSON)"},
	}
	return append(out, downloadLinks(l, href+"/items", nil)...)
}

// htmlLinks picks the links an HTML page lists: alternates and downloads.
func htmlLinks(ls []link) []link {
	var out []link
	for _, l := range ls {
		if l.Rel == relAlternate || l.Rel == relEnclosure || l.Rel == relTiles || l.Rel == relTileJSON || strings.HasSuffix(l.Rel, "queryables") {
			out = append(out, l)
		}
	}
	return out
}

// itemsPageLinks are the alternates and downloads of an items page of l
// asked with query q in format current ("json" or "html").
func itemsPageLinks(base string, l *layers.Layer, q url.Values, current string) []link {
	self := base + "/collections/" + l.ID + "/items"
	return append(alternateLinks(self, q, "application/geo+json", current), downloadLinks(l, self, q)...)
}

// itemPageLinks are the alternates of a single feature (id as in its
// path) asked with query q in format current.
func itemPageLinks(base string, l *layers.Layer, id string, q url.Values, current string) []link {
	return alternateLinks(base+"/collections/"+l.ID+"/items/"+id, q, "application/geo+json", current)
}
