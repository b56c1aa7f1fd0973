package httpapi

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"villageplan/tiles"
)

// OGC API – Tiles (OGC 20-057, Part 1: Core) beside the XYZ routes, so that
// clients that discover tiles from the landing page (GDAL's OGCAPI driver,
// QGIS, OpenLayers' OGCVectorTile) find the same vector tiles:
//
//	GET /tileMatrixSets                                   the tile matrix sets (one: WebMercatorQuad)
//	GET /tileMatrixSets/WebMercatorQuad                   its definition (OGC 17-083r4, JSON)
//	GET /collections/{collectionId}/tiles                 tilesets list of one layer
//	GET /collections/{collectionId}/tiles/WebMercatorQuad tileset metadata (OGC 17-083r4 §9)
//	GET /collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}
//	GET /tiles                                            dataset tilesets list (the "map" tileset: every layer)
//	GET /tiles/WebMercatorQuad                            its metadata
//	GET /tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}
//
// A tile here is the same tile, with the same ETag, cache and answers, as
// /tiles/{tileset}/{z}/{x}/{y}.mvt with z = tileMatrix, x = tileCol,
// y = tileRow (WebMercatorQuad and the XYZ scheme share origin and
// orientation); a tile without features is 204. Tiles are in EPSG:3857,
// MVT 2.1 with extent 4096.

const (
	tmsID  = "WebMercatorQuad"
	tmsURI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
	// mercatorHalf is half the side of the Web-Mercator square in metres.
	mercatorHalf = 20037508.3427892
	// standardPixel is the 0.28 mm pixel of OGC's scale denominators.
	standardPixel     = 0.00028
	relTilingScheme   = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relTileMatrixSets = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
)

// ogcTilesConformance are the conformance classes of OGC API – Tiles and
// the 2D Tile Matrix Set and Tileset Metadata standard that these routes
// pass (TestOGCAPITiles checks each observation).
var ogcTilesConformance = []string{
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
}

// routeOGCTiles mounts the routes above. It needs the tile handlers of
// routeTiles.
func (s *Server) routeOGCTiles(h *tileHandlers) {
	get := []string{http.MethodGet, http.MethodHead}
	o := &ogcTiles{h: h}
	s.router.HandleFunc("/tileMatrixSets", o.matrixSets).Methods(get...)
	s.router.HandleFunc("/tileMatrixSets/"+tmsID, o.matrixSet).Methods(get...)
	s.router.HandleFunc("/collections/{collectionId}/tiles", o.tilesets).Methods(get...)
	s.router.HandleFunc("/collections/{collectionId}/tiles/"+tmsID, o.tileset).Methods(get...)
	s.router.HandleFunc("/collections/{collectionId}/tiles/"+tmsID+"/{tileMatrix}/{tileRow}/{tileCol}", o.tile).Methods(get...)
	s.router.HandleFunc("/tiles", o.tilesets).Methods(get...)
	s.router.HandleFunc("/tiles/"+tmsID, o.tileset).Methods(get...)
	s.router.HandleFunc("/tiles/"+tmsID+"/{tileMatrix}/{tileRow}/{tileCol}", o.tile).Methods(get...)
}

type ogcTiles struct{ h *tileHandlers }

// tilesetOf is the tileset of a request: the layer of {collectionId}, or
// the "map" tileset for the dataset routes; the base path of its OGC
// tiles resources.
func (o *ogcTiles) tilesetOf(w http.ResponseWriter, r *http.Request) (*tiles.Tileset, string, bool) {
	base := o.h.s.baseURL(r)
	id, ok := mux.Vars(r)["collectionId"]
	if !ok {
		ts, _ := o.h.svc.Tileset(tiles.MapTileset)
		return ts, base + "/tiles", true
	}
	ts, found := o.h.svc.Tileset(id)
	if !found {
		WriteError(w, http.StatusNotFound, "NotFound", "图层 "+strconv.Quote(id)+" 不存在或没有矢量瓦片 / no collection "+strconv.Quote(id)+" with vector tiles; see /collections")
		return nil, "", false
	}
	return ts, base + "/collections/" + id + "/tiles", true
}

func (o *ogcTiles) tile(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ts, _, ok := o.tilesetOf(w, r)
	if !ok {
		return
	}
	o.h.tile(w, mux.SetURLVars(r, map[string]string{"tileset": ts.ID, "z": v["tileMatrix"], "x": v["tileCol"], "y": v["tileRow"]}))
}

type ogcTilesetRef struct {
	Title            string `json:"title"`
	DataType         string `json:"dataType"`
	CRS              string `json:"crs"`
	TileMatrixSetURI string `json:"tileMatrixSetURI"`
	Links            []link `json:"links"`
}

func (o *ogcTiles) tilesets(w http.ResponseWriter, r *http.Request) {
	ts, base, ok := o.tilesetOf(w, r)
	if !ok {
		return
	}
	title := tilesetTitle(ts)
	doc := map[string]any{
		"links": []link{{Href: base, Rel: "self", Type: "application/json", Title: "瓦片集列表 / tilesets"}},
		"tilesets": []ogcTilesetRef{{
			Title: title + " — " + tmsID, DataType: "vector",
			CRS: "http://www.opengis.net/def/crs/EPSG/0/3857", TileMatrixSetURI: tmsURI,
			Links: []link{
				{Href: base + "/" + tmsID, Rel: "self", Type: "application/json", Title: "瓦片集元数据 / tileset metadata"},
				{Href: o.h.s.baseURL(r) + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: "application/json", Title: tmsID},
			},
		}},
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, doc)
}

// tileset answers the tileset metadata (OGC 17-083r4 §9, JSON encoding):
// the tile URL template, the tiling scheme, the limits of the tile matrix
// (one entry per zoom between the tileset's minimum and maximum, from the
// data's bounds as TileJSON reports them) and the MVT layers with their
// fields.
func (o *ogcTiles) tileset(w http.ResponseWriter, r *http.Request) {
	ts, base, ok := o.tilesetOf(w, r)
	if !ok {
		return
	}
	tj, err := o.h.svc.TileJSON(r.Context(), ts, o.h.s.baseURL(r))
	if err != nil {
		o.h.tileError(w, r, err, ts.ID)
		return
	}
	type limits struct {
		TileMatrix string `json:"tileMatrix"`
		MinTileRow int    `json:"minTileRow"`
		MaxTileRow int    `json:"maxTileRow"`
		MinTileCol int    `json:"minTileCol"`
		MaxTileCol int    `json:"maxTileCol"`
	}
	var lims []limits
	for z := tj.MinZoom; z <= tj.MaxZoom; z++ {
		x0, y0 := lonLatTile(tj.Bounds[0], tj.Bounds[3], z)
		x1, y1 := lonLatTile(tj.Bounds[2], tj.Bounds[1], z)
		lims = append(lims, limits{TileMatrix: strconv.Itoa(z), MinTileRow: y0, MaxTileRow: y1, MinTileCol: x0, MaxTileCol: x1})
	}
	type field struct {
		Description string `json:"description"`
		Type        string `json:"type"`
	}
	type layer struct {
		ID                string         `json:"id"`
		Title             string         `json:"title"`
		DataType          string         `json:"dataType"`
		GeometryDimension *int           `json:"geometryDimension,omitempty"`
		MinTileMatrix     string         `json:"minTileMatrix"`
		MaxTileMatrix     string         `json:"maxTileMatrix"`
		PropertiesSchema  map[string]any `json:"propertiesSchema"`
	}
	var vls []layer
	for _, vl := range tj.VectorLayers {
		props := map[string]any{}
		for name, d := range vl.Fields {
			props[name] = field{Description: d, Type: jsonType(d)}
		}
		l := layer{ID: vl.ID, Title: vl.Description, DataType: "vector",
			MinTileMatrix: strconv.Itoa(vl.MinZoom), MaxTileMatrix: strconv.Itoa(vl.MaxZoom),
			PropertiesSchema: map[string]any{"type": "object", "properties": props}}
		if dim, ok := geometryDimension(o.h, vl.ID); ok {
			l.GeometryDimension = &dim
		}
		vls = append(vls, l)
	}
	doc := map[string]any{
		"title":            tilesetTitle(ts),
		"description":      tj.Description,
		"dataType":         "vector",
		"crs":              "http://www.opengis.net/def/crs/EPSG/0/3857",
		"tileMatrixSetURI": tmsURI,
		"boundingBox": map[string]any{
			"lowerLeft": []float64{tj.Bounds[0], tj.Bounds[1]}, "upperRight": []float64{tj.Bounds[2], tj.Bounds[3]},
			"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
		"centerPoint":         map[string]any{"coordinates": []float64{tj.Center[0], tj.Center[1]}, "tileMatrix": strconv.Itoa(int(tj.Center[2])), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
		"tileMatrixSetLimits": lims,
		"layers":              vls,
		"attribution":         tj.Attribution,
		"links": []link{
			{Href: base + "/" + tmsID, Rel: "self", Type: "application/json", Title: "瓦片集元数据 / tileset metadata"},
			{Href: o.h.s.baseURL(r) + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: "application/json", Title: tmsID},
			{Href: base + "/" + tmsID + "/{tileMatrix}/{tileRow}/{tileCol}", Rel: "item", Type: mtMVT, Title: "矢量瓦片 / Mapbox vector tiles", Templated: true},
			{Href: o.h.s.baseURL(r) + "/tiles/" + ts.ID + ".json", Rel: "describedby", Type: "application/json", Title: "TileJSON 3.0"},
		},
	}
	w.Header().Set("Cache-Control", tiles.DefaultCacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	WriteJSON(w, http.StatusOK, doc)
}

// geometryDimension is 0, 1 or 2 for a point, line or polygon layer of the
// catalog (label-point layers are points).
func geometryDimension(h *tileHandlers, mvtLayer string) (int, bool) {
	if l, ok := h.s.catalog.Layer(mvtLayer); ok {
		switch string(l.Geometry) {
		case "Point", "MultiPoint":
			return 0, true
		case "MultiLineString", "LineString":
			return 1, true
		case "MultiPolygon", "Polygon":
			return 2, true
		}
		return 0, false
	}
	return 0, true // a label-point layer
}

// jsonType reads the JSON type from a TileJSON field description
// ("Number: …", "Boolean: …", "String: …").
func jsonType(desc string) string {
	switch {
	case len(desc) >= 6 && desc[:6] == "Number":
		return "number"
	case len(desc) >= 7 && desc[:7] == "Boolean":
		return "boolean"
	}
	return "string"
}

func tilesetTitle(ts *tiles.Tileset) string {
	if ts.ID == tiles.MapTileset {
		return "村庄规划一张图 villageplan map"
	}
	l := ts.Layers[0]
	return l.TitleZH + " " + l.TitleEN
}

// lonLatTile is the WebMercatorQuad tile (column, row) holding a point.
func lonLatTile(lon, lat float64, z int) (col, row int) {
	n := math.Exp2(float64(z))
	lat = math.Max(-85.0511287798, math.Min(85.0511287798, lat))
	x := (lon + 180) / 360 * n
	y := (1 - math.Log(math.Tan(lat*math.Pi/180)+1/math.Cos(lat*math.Pi/180))/math.Pi) / 2 * n
	col = int(math.Max(0, math.Min(n-1, math.Floor(x))))
	row = int(math.Max(0, math.Min(n-1, math.Floor(y))))
	return col, row
}

func (o *ogcTiles) matrixSets(w http.ResponseWriter, r *http.Request) {
	base := o.h.s.baseURL(r)
	WriteJSON(w, http.StatusOK, map[string]any{
		"links": []link{{Href: base + "/tileMatrixSets", Rel: "self", Type: "application/json"}},
		"tileMatrixSets": []map[string]any{{
			"id": tmsID, "title": "Google Maps Compatible for the World", "uri": tmsURI,
			"links": []link{{Href: base + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: "application/json", Title: tmsID}},
		}},
	})
}

// matrixSet is the WebMercatorQuad definition of OGC 17-083r4 Annex D.1
// (JSON encoding; each member the draft named otherwise is also given under
// that name, which GDAL 3.6's OGCAPI driver reads): EPSG:3857, 256-pixel tiles, top-left origin, zooms 0 to
// tiles.MaxZoom.
func (o *ogcTiles) matrixSet(w http.ResponseWriter, r *http.Request) {
	type matrix struct {
		ID               string     `json:"id"`
		Identifier       string     `json:"identifier"` // the draft's name of id, read by GDAL ≤ 3.6
		ScaleDenominator float64    `json:"scaleDenominator"`
		CellSize         float64    `json:"cellSize"`
		CornerOfOrigin   string     `json:"cornerOfOrigin"`
		PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
		TopLeftCorner    [2]float64 `json:"topLeftCorner"` // the 2.0 draft's name, read by GDAL ≤ 3.6
		TileWidth        int        `json:"tileWidth"`
		TileHeight       int        `json:"tileHeight"`
		MatrixWidth      int        `json:"matrixWidth"`
		MatrixHeight     int        `json:"matrixHeight"`
	}
	var ms []matrix
	for z := 0; z <= tiles.MaxZoom; z++ {
		cell := 2 * mercatorHalf / 256 / math.Exp2(float64(z))
		n := 1 << z
		ms = append(ms, matrix{ID: strconv.Itoa(z), Identifier: strconv.Itoa(z), ScaleDenominator: cell / standardPixel, CellSize: cell, CornerOfOrigin: "topLeft",
			PointOfOrigin: [2]float64{-mercatorHalf, mercatorHalf}, TopLeftCorner: [2]float64{-mercatorHalf, mercatorHalf}, TileWidth: 256, TileHeight: 256, MatrixWidth: n, MatrixHeight: n})
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	WriteJSON(w, http.StatusOK, map[string]any{
		"id": tmsID, "title": "Google Maps Compatible for the World", "uri": tmsURI,
		"identifier": tmsID, // the draft's name of id; with boundingBox it is how GDAL ≤ 3.6 recognises the document
		"boundingBox": map[string]any{"crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
			"lowerLeft": []float64{-mercatorHalf, -mercatorHalf}, "upperRight": []float64{mercatorHalf, mercatorHalf},
			"lowerCorner": []float64{-mercatorHalf, -mercatorHalf}, "upperCorner": []float64{mercatorHalf, mercatorHalf}},
		"crs":               "http://www.opengis.net/def/crs/EPSG/0/3857",
		"supportedCRS":      "http://www.opengis.net/def/crs/EPSG/0/3857", // the 2.0 draft's name, read by GDAL ≤ 3.6
		"orderedAxes":       []string{"X", "Y"},
		"wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"tileMatrices":      ms,
	})
}
