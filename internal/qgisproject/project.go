// Package qgisproject writes the QGIS project (.qgs, QGIS 3 XML) of the
// one-map from the layer catalog, so that an analyst opens one file in QGIS
// and has the whole township: every catalog layer as an OGC API – Features
// (OAPIF) layer of this service, named in Chinese (TitleZH), grouped as the
// web map groups them (Layer.Group), drawn in map order and styled from
// Layer.Style (single symbol, or categorized by Style.ColorBy with one
// legend entry per colour named by the code list); below them the
// service's vector tiles (tileset "map") as an unchecked basemap styled the
// same way. The project CRS is EPSG:4530, CGCS2000 3-degree Gauss-Krüger
// zone 42 with the zone number in the easting — the plane of 双阳区's
// survey deliveries (DOMAIN.md §5) and the one the export command names
// for 双阳 — and the initial view is the township's extent in it.
//
// The generator reads nothing but the catalog: it is pure and knows no
// database. QGIS 3.22 (Debian 12) and later read the file; the test in
// internal/qgistest opens it with PyQGIS.
package qgisproject

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"villageplan/layers"
)

// ContentType is the media type of a .qgs file (freedesktop shared-mime-info).
const ContentType = "application/x-qgis-project"

// ProjectSRID is the EPSG code of the project CRS: CGCS2000 / 3-degree
// Gauss-Kruger zone 42 (false easting 42 500 000 m, CM 126°E).
const ProjectSRID = 4530

// Options are the inputs of Build.
type Options struct {
	// BaseURL is the service's base URL as the client reached it, without
	// a trailing slash (http://host:port[/prefix]).
	BaseURL string
	// Extent is the initial view in EPSG:4530 metres (xmin/easting,
	// ymin/northing, xmax, ymax); zero for none (QGIS then opens on the
	// full extent of the layers).
	Extent [4]float64
	// PageSize is the OAPIF page size QGIS asks for (limit); 0 means 1000.
	PageSize int
}

// srs describes a CRS for QGIS by authority id; QGIS 3 resolves a
// spatialrefsys by its authid when srsid is that of its own CRS database.
type srs struct {
	srsid int
	auth  string
	desc  string
	geo   bool
}

var (
	srsProject = srs{27774, "EPSG:4530", "CGCS2000 / 3-degree Gauss-Kruger zone 42", false}
	srsWGS84   = srs{3452, "EPSG:4326", "WGS 84", true}
	srsWebMerc = srs{3857, "EPSG:3857", "WGS 84 / Pseudo-Mercator", false}
)

// w is a tiny XML writer: element names and attribute values are escaped.
type w struct{ b bytes.Buffer }

func (x *w) esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (x *w) open(name string, attrs ...string) {
	x.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.b.WriteString(" " + attrs[i] + `="` + x.esc(attrs[i+1]) + `"`)
	}
	x.b.WriteString(">")
}

func (x *w) empty(name string, attrs ...string) {
	x.open(name, attrs...)
	x.b.Truncate(x.b.Len() - 1)
	x.b.WriteString("/>")
}

func (x *w) close(name string) { x.b.WriteString("</" + name + ">\n") }

func (x *w) text(name, s string) {
	x.b.WriteString("<" + name + ">" + x.esc(s) + "</" + name + ">")
}

func (x *w) srs(s srs) {
	x.open("spatialrefsys")
	x.text("srsid", strconv.Itoa(s.srsid))
	x.text("authid", s.auth)
	x.text("description", s.desc)
	x.text("geographicflag", map[bool]string{true: "true", false: "false"}[s.geo])
	x.close("spatialrefsys")
}

// Build returns the project file. Layer ids in the project are
// "villageplan_<layer id>" and "villageplan_basemap" (QGIS keeps a layer
// id only when it is longer than 10 characters).
func Build(cat *layers.Catalog, o Options) []byte {
	base := strings.TrimRight(o.BaseURL, "/")
	page := o.PageSize
	if page <= 0 {
		page = 1000
	}
	all := cat.Layers() // map order, bottom first
	x := &w{}
	x.b.WriteString("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
	x.open("qgis", "projectname", "双营子回族乡村庄规划一张图", "version", "3.22.16-Białowieża")
	x.text("title", "双营子回族乡村庄规划一张图 villageplan")
	x.open("projectCrs")
	x.srs(srsProject)
	x.close("projectCrs")

	// Layer tree: groups in the order their first layer appears from the
	// top of the map, layers top first; the basemap last (bottom), off.
	x.open("layer-tree-group")
	x.empty("customproperties")
	var groups []string
	byGroup := map[string][]*layers.Layer{}
	for i := len(all) - 1; i >= 0; i-- {
		l := all[i]
		if _, seen := byGroup[l.Group]; !seen {
			groups = append(groups, l.Group)
		}
		byGroup[l.Group] = append(byGroup[l.Group], l)
	}
	for _, g := range groups {
		x.open("layer-tree-group", "name", g, "checked", "Qt::Checked", "expanded", "1")
		x.empty("customproperties")
		for _, l := range byGroup[g] {
			x.open("layer-tree-layer", "id", "villageplan_"+l.ID, "name", l.TitleZH, "source", oapifURI(base, l.ID, page),
				"providerKey", "OAPIF", "checked", "Qt::Checked", "expanded", "0")
			x.empty("customproperties")
			x.close("layer-tree-layer")
		}
		x.close("layer-tree-group")
	}
	x.open("layer-tree-layer", "id", "villageplan_basemap", "name", "一张图底图（矢量瓦片）", "source", tileURI(base),
		"providerKey", "", "checked", "Qt::Unchecked", "expanded", "0")
	x.empty("customproperties")
	x.close("layer-tree-layer")
	x.close("layer-tree-group")

	if o.Extent != [4]float64{} {
		x.open("mapcanvas", "name", "theMapCanvas", "annotationsVisible", "1")
		x.text("units", "meters")
		x.open("extent")
		for i, n := range []string{"xmin", "ymin", "xmax", "ymax"} {
			x.text(n, ff(o.Extent[i]))
		}
		x.close("extent")
		x.text("rotation", "0")
		x.open("destinationsrs")
		x.srs(srsProject)
		x.close("destinationsrs")
		x.close("mapcanvas")
	}

	if o.Extent != [4]float64{} {
		x.open("ProjectViewSettings", "UseProjectScales", "0")
		x.empty("Scales")
		x.open("DefaultViewExtent", "xmin", ff(o.Extent[0]), "ymin", ff(o.Extent[1]), "xmax", ff(o.Extent[2]), "ymax", ff(o.Extent[3]))
		x.srs(srsProject)
		x.close("DefaultViewExtent")
		x.close("ProjectViewSettings")
	}
	// QGIS reads <projectCrs> only when the project says it uses one.
	x.open("properties")
	x.open("SpatialRefSys")
	x.b.WriteString(`<ProjectionsEnabled type="int">1</ProjectionsEnabled>`)
	x.close("SpatialRefSys")
	x.close("properties")

	x.open("projectlayers")
	for _, l := range all {
		oapifLayer(x, base, l, page)
	}
	basemapLayer(x, base, all)
	x.close("projectlayers")
	x.open("layerorder")
	for i := len(all) - 1; i >= 0; i-- {
		x.empty("layer", "id", "villageplan_"+all[i].ID)
	}
	x.empty("layer", "id", "villageplan_basemap")
	x.close("layerorder")
	x.close("qgis")
	return x.b.Bytes()
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// oapifURI is the QgsDataSourceUri of an OAPIF layer; values are quoted
// with ' and escaped with \ as QgsDataSourceUri reads them.
func oapifURI(base, id string, page int) string {
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return fmt.Sprintf("pageSize='%d' typename='%s' url='%s'", page, id, q.Replace(base))
}

func tileURI(base string) string {
	v := url.Values{}
	v.Set("type", "xyz")
	v.Set("url", base+"/tiles/map/{z}/{x}/{y}.mvt")
	v.Set("zmin", "8")
	v.Set("zmax", "22")
	v.Set("styleUrl", base+"/styles/default.json")
	return v.Encode()
}

func geometryName(l *layers.Layer) (geom string, tileGeom int) {
	switch l.Geometry {
	case layers.Point:
		return "Point", 0
	case layers.MultiLineString:
		return "Line", 1
	}
	return "Polygon", 2
}

func oapifLayer(x *w, base string, l *layers.Layer, page int) {
	geom, _ := geometryName(l)
	x.open("maplayer", "type", "vector", "geometry", geom, "wkbType", string(l.Geometry), "autoRefreshEnabled", "0",
		"hasScaleBasedVisibilityFlag", "0", "styleCategories", "AllStyleCategories")
	x.text("id", "villageplan_"+l.ID)
	x.text("datasource", oapifURI(base, l.ID, page))
	x.text("layername", l.TitleZH)
	x.text("abstract", l.TitleEN+". "+l.Description)
	x.open("srs")
	x.srs(srsWGS84)
	x.close("srs")
	x.text("provider", "OAPIF")
	renderer(x, l)
	if l.Style.LabelField != "" {
		labeling(x, l)
	}
	x.close("maplayer")
}

// category is one legend entry: the stored value ("" for all other
// values), its label and colour.
type category struct {
	value, label, color string
	factor              float64
}

// categories are l's ColorBy values in code-list order (values without a
// code list sorted), then "其他" in the default colour; nil without ColorBy.
func categories(l *layers.Layer) []category {
	st := l.Style
	if st.ColorBy == "" || len(st.Colors) == 0 {
		return nil
	}
	var out []category
	seen := map[string]bool{}
	f, _ := l.Field(st.ColorBy)
	if cl, ok := layers.CodeListByID(f.CodeList); ok && f.CodeList != "" {
		n := len(cl.Values)
		for i, v := range cl.Values {
			c, ok := st.Colors[v.Value]
			if !ok {
				continue
			}
			// Codes (DLBM "0103") with their name; Chinese values as stored.
			label := v.Value
			if v.NameZH != "" && v.NameZH != v.Value && isASCII(v.Value) {
				label = v.Value + " " + v.NameZH
			}
			factor := 1.0
			if n > 1 {
				factor = 1 + 1.5*float64(n-1-i)/float64(n-1) // as the MapLibre style ranks line widths
			}
			out = append(out, category{v.Value, label, c, factor})
			seen[v.Value] = true
		}
	}
	var rest []string
	for k := range st.Colors {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, category{k, k, st.Colors[k], 1})
	}
	return append(out, category{"", "其他 / other", st.Color, 1})
}

func isASCII(s string) bool {
	for _, r := range s {
		if r >= 0x80 {
			return false
		}
	}
	return true
}

func renderer(x *w, l *layers.Layer) {
	cats := categories(l)
	if cats == nil {
		x.open("renderer-v2", "type", "singleSymbol", "symbollevels", "0", "forceraster", "0", "enableorderby", "0")
		x.open("symbols")
		symbol(x, l, "0", l.Style.Color, 1)
		x.close("symbols")
		x.close("renderer-v2")
		return
	}
	x.open("renderer-v2", "type", "categorizedSymbol", "attr", l.Style.ColorBy, "symbollevels", "0", "forceraster", "0", "enableorderby", "0")
	x.open("categories")
	for i, c := range cats {
		x.empty("category", "render", "true", "symbol", strconv.Itoa(i), "value", c.value, "label", c.label, "type", "string")
	}
	x.close("categories")
	x.open("symbols")
	for i, c := range cats {
		symbol(x, l, strconv.Itoa(i), c.color, c.factor)
	}
	x.close("symbols")
	x.close("renderer-v2")
}

// rgba turns "#rrggbb" and an opacity into QGIS's "r,g,b,a".
func rgba(hex string, opacity float64) string {
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 6 {
		v = 0x808080
	}
	return fmt.Sprintf("%d,%d,%d,%d", v>>16&255, v>>8&255, v&255, int(opacity*255+0.5))
}

func opt(x *w, name, value string) {
	x.empty("Option", "name", name, "value", value, "type", "QString")
}

// symbol writes a QGIS symbol named name for l's geometry in colour:
// fills with Style.Opacity and an outline in the colour, lines
// Style.Width px wide times factor (grey casing below for ranked lines, as
// on the web map), circles of radius Style.Width px with a white outline.
func symbol(x *w, l *layers.Layer, name, color string, factor float64) {
	st := l.Style
	switch l.Geometry {
	case layers.MultiPolygon:
		op := st.Opacity
		if op <= 0 {
			op = 0.5
		}
		x.open("symbol", "type", "fill", "name", name, "alpha", "1", "clip_to_extent", "1", "force_rhr", "0")
		x.open("layer", "class", "SimpleFill", "enabled", "1", "locked", "0", "pass", "0")
		x.open("Option", "type", "Map")
		opt(x, "color", rgba(color, op))
		opt(x, "style", "solid")
		opt(x, "outline_color", rgba(color, 1))
		opt(x, "outline_style", "solid")
		opt(x, "outline_width", "1")
		opt(x, "outline_width_unit", "Pixel")
		opt(x, "joinstyle", "round")
		x.close("Option")
		x.close("layer")
		x.close("symbol")
	case layers.MultiLineString:
		wd := st.Width
		if wd <= 0 {
			wd = 1
		}
		wd *= factor
		x.open("symbol", "type", "line", "name", name, "alpha", "1", "clip_to_extent", "1", "force_rhr", "0")
		if st.ColorBy != "" {
			lineLayer(x, "122,122,122,255", wd+1.5)
		}
		lineLayer(x, rgba(color, 1), wd)
		x.close("symbol")
	default:
		r := st.Width
		if r <= 0 {
			r = 4
		}
		x.open("symbol", "type", "marker", "name", name, "alpha", "1", "clip_to_extent", "1", "force_rhr", "0")
		x.open("layer", "class", "SimpleMarker", "enabled", "1", "locked", "0", "pass", "0")
		x.open("Option", "type", "Map")
		opt(x, "name", "circle")
		opt(x, "color", rgba(color, 1))
		opt(x, "size", strconv.FormatFloat(2*r, 'f', -1, 64))
		opt(x, "size_unit", "Pixel")
		opt(x, "outline_color", "255,255,255,255")
		opt(x, "outline_style", "solid")
		opt(x, "outline_width", "1")
		opt(x, "outline_width_unit", "Pixel")
		x.close("Option")
		x.close("layer")
		x.close("symbol")
	}
}

func lineLayer(x *w, color string, width float64) {
	x.open("layer", "class", "SimpleLine", "enabled", "1", "locked", "0", "pass", "0")
	x.open("Option", "type", "Map")
	opt(x, "line_color", color)
	opt(x, "line_style", "solid")
	opt(x, "line_width", strconv.FormatFloat(width, 'f', -1, 64))
	opt(x, "line_width_unit", "Pixel")
	opt(x, "capstyle", "round")
	opt(x, "joinstyle", "round")
	x.close("Option")
	x.close("layer")
}

// labeling labels l with Style.LabelField in Noto Sans CJK SC, dark grey
// with a white buffer, as the web map does.
func labeling(x *w, l *layers.Layer) {
	x.open("labeling", "type", "simple")
	x.open("settings", "calloutType", "simple")
	x.open("text-style", "fieldName", l.Style.LabelField, "isExpression", "0", "fontFamily", "Noto Sans CJK SC",
		"namedStyle", "Regular", "fontSize", "9", "fontSizeUnit", "Point", "textColor", "51,51,51,255", "textOpacity", "1")
	x.empty("text-buffer", "bufferDraw", "1", "bufferSize", "1", "bufferSizeUnits", "MM", "bufferColor", "255,255,255,255", "bufferOpacity", "1")
	x.close("text-style")
	// QgsPalLayerSettings::Placement: cartographic positions around a
	// point, curved along a line, around a polygon's centroid.
	placement := "6"
	switch l.Geometry {
	case layers.MultiLineString:
		placement = "3"
	case layers.MultiPolygon:
		placement = "0"
	}
	x.empty("placement", "placement", placement, "dist", "1", "distUnits", "MM")
	// A labelled polygon layer is no obstacle: QGIS's default (its
	// interior) would keep every label off the villages, which cover the
	// whole township.
	obstacle := "1"
	if l.Geometry == layers.MultiPolygon {
		obstacle = "0"
	}
	x.empty("rendering", "drawLabels", "1", "obstacle", obstacle, "obstacleType", "1", "displayAll", "0", "mergeLines", "1")
	x.close("settings")
	x.close("labeling")
}

// basemapLayer writes the vector-tile layer of tileset "map": one style
// per catalog layer, or per ColorBy value with a filter expression.
func basemapLayer(x *w, base string, all []*layers.Layer) {
	x.open("maplayer", "type", "vector-tile", "autoRefreshEnabled", "0", "hasScaleBasedVisibilityFlag", "0", "styleCategories", "AllStyleCategories")
	x.text("id", "villageplan_basemap")
	x.text("datasource", tileURI(base))
	x.text("layername", "一张图底图（矢量瓦片）")
	x.text("abstract", "The service's vector tiles (tileset map), styled from the layer catalog.")
	x.open("srs")
	x.srs(srsWebMerc)
	x.close("srs")
	x.open("renderer", "type", "basic")
	x.open("styles")
	for _, l := range all {
		_, g := geometryName(l)
		maxZ := "-1"
		if l.MaxZoom < 22 {
			maxZ = strconv.Itoa(l.MaxZoom + 1)
		}
		cats := categories(l)
		if cats == nil {
			cats = []category{{label: l.TitleZH, color: l.Style.Color, factor: 1}}
		}
		var others []string
		for _, c := range cats {
			expr := ""
			switch {
			case l.Style.ColorBy == "":
			case c.value != "":
				expr = fmt.Sprintf(`"%s" = '%s'`, l.Style.ColorBy, strings.ReplaceAll(c.value, "'", "''"))
				others = append(others, "'"+strings.ReplaceAll(c.value, "'", "''")+"'")
			default:
				expr = fmt.Sprintf(`"%s" IS NULL OR "%s" NOT IN (%s)`, l.Style.ColorBy, l.Style.ColorBy, strings.Join(others, ", "))
			}
			x.open("style", "name", l.TitleZH+" "+c.label, "layer", l.ID, "geometry", strconv.Itoa(g), "enabled", "1",
				"expression", expr, "min-zoom", strconv.Itoa(l.MinZoom), "max-zoom", maxZ)
			x.open("symbols")
			symbol(x, l, "0", c.color, c.factor)
			x.close("symbols")
			x.close("style")
		}
	}
	x.close("styles")
	x.close("renderer")
	x.close("maplayer")
}
