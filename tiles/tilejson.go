package tiles

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"villageplan/layers"
)

// TileJSON is a TileJSON 3.0.0 document
// (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0).
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	Attribution  string        `json:"attribution,omitempty"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one MVT layer of a tileset (TileJSON 3.0.0 §3.3).
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// worldBounds are the bounds of the Web-Mercator square in WGS 84 degrees,
// used when the tileset holds no data yet.
var worldBounds = [4]float64{-180, -85.051129, 180, 85.051129}

// tileJSONInfo is what TileJSON reads from the database: the extent of the
// data (cached under key, the layers' versions) and the attribution of the
// layers' sources.
type tileJSONInfo struct {
	key         string
	bounds      [4]float64
	hasData     bool
	attribution string
}

// TileJSON returns the TileJSON document of ts. baseURL is the scheme and
// authority the client used ("https://host:port"); tile URLs are absolute
// because MapLibre does not resolve relative tile URLs against the TileJSON.
//
// bounds are the extent of the stored data in EPSG:4490 degrees (CGCS2000,
// within a metre of WGS 84 — far below a tile pixel at the zooms served),
// as estimated from the column statistics where they exist, or the whole
// Web-Mercator square for an empty tileset; attribution lists
// the sources of layer_metadata, with a sample-data notice (示例数据) for
// generated layers. Both are read once per change of layer versions.
func (s *Service) TileJSON(ctx context.Context, ts *Tileset, baseURL string) (*TileJSON, error) {
	info, err := s.tileJSONInfo(ctx, ts)
	if err != nil {
		return nil, err
	}
	tj := &TileJSON{
		TileJSON:    "3.0.0",
		Name:        ts.ID,
		Version:     "1.0.0",
		Scheme:      "xyz",
		Tiles:       []string{strings.TrimRight(baseURL, "/") + "/tiles/" + ts.ID + "/{z}/{x}/{y}.mvt"},
		MinZoom:     ts.MinZoom,
		MaxZoom:     ts.MaxZoom,
		Bounds:      worldBounds,
		Attribution: info.attribution,
	}
	if ts.ID == MapTileset {
		tj.Name = "村庄规划一张图 villageplan map"
		tj.Description = "All map layers of the village plan in one vector tile (MVT 2.1, extent 4096)."
	} else {
		l := ts.Layers[0]
		tj.Name = l.TitleZH + " " + l.TitleEN
		tj.Description = l.Description
	}
	if info.hasData {
		tj.Bounds = info.bounds
	}
	cz := fitZoom(tj.Bounds)
	cz = max(ts.MinZoom, min(cz, ts.MaxZoom))
	tj.Center = [3]float64{round6((tj.Bounds[0] + tj.Bounds[2]) / 2), round6((tj.Bounds[1] + tj.Bounds[3]) / 2), float64(cz)}
	for _, l := range ts.Layers {
		vl := VectorLayer{ID: l.ID, Description: l.TitleZH + " " + l.TitleEN, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: map[string]string{}}
		for _, f := range tileFields(l, MaxZoom) {
			d := fieldKind(f.Type) + ": " + f.TitleZH + " (" + f.TitleEN
			if f.Unit != "" {
				d += ", " + f.Unit
			}
			d += ")"
			if f.TileMinZoom > l.MinZoom {
				d += fmt.Sprintf(", from zoom %d", f.TileMinZoom)
			}
			vl.Fields[f.Name] = d
		}
		tj.VectorLayers = append(tj.VectorLayers, vl)
		if HasLabelPoints(l) {
			tj.VectorLayers = append(tj.VectorLayers, VectorLayer{ID: l.ID + LabelLayerSuffix,
				Description: l.TitleZH + "注记点 label points of " + l.TitleEN, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom,
				Fields: map[string]string{l.Style.LabelField: vl.Fields[l.Style.LabelField]}})
		}
	}
	return tj, nil
}

// fieldKind names an attribute type the way TileJSON examples do.
func fieldKind(t layers.FieldType) string {
	switch t {
	case layers.Integer, layers.Real:
		return "Number"
	case layers.Bool:
		return "Boolean"
	}
	return "String"
}

// fitZoom is the highest zoom at which bounds fit in one 512-px tile
// width, a reasonable initial view.
func fitZoom(b [4]float64) int {
	w := math.Max(b[2]-b[0], 1e-6)
	z := int(math.Floor(math.Log2(360 / w)))
	return max(0, min(z, MaxZoom))
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func (s *Service) tileJSONInfo(ctx context.Context, ts *Tileset) (*tileJSONInfo, error) {
	if s.pool == nil {
		return &tileJSONInfo{}, nil
	}
	b, err := s.bounds(ctx, ts)
	if err != nil {
		return nil, err
	}
	info := *b
	if info.attribution, err = s.attribution(ctx, ts); err != nil {
		return nil, err
	}
	return &info, nil
}

// bounds returns the extent of the tileset's data, computed once per
// change of the layers' versions.
func (s *Service) bounds(ctx context.Context, ts *Tileset) (*tileJSONInfo, error) {
	all, err := readVersions(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	s.view.observe(all)
	key := cacheKey(ts, Address{}, Filter{}, ts.Layers, pick(all, ts.Layers))
	s.infoMu.Lock()
	cached := s.info[ts.ID]
	s.infoMu.Unlock()
	if cached != nil && cached.key == key {
		return cached, nil
	}
	info := &tileJSONInfo{key: key}
	// Extent of every member layer in one statement: the planner's
	// estimate from the column statistics (milliseconds), or, for a table
	// not analysed yet, ST_Extent over the rows (0.8 s for 600 000
	// land-use polygons).
	var parts []string
	for _, l := range ts.Layers {
		parts = append(parts, fmt.Sprintf("SELECT coalesce(ST_EstimatedExtent(%s, %s, 'geom'), (SELECT ST_Extent(geom) FROM %s)) AS b",
			layers.QuoteLiteral(layers.Schema), layers.QuoteLiteral(l.Table), l.QualifiedTable()))
	}
	q := "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(b) AS e FROM (" +
		strings.Join(parts, " UNION ALL ") + ") u) x WHERE e IS NOT NULL"
	var b [4]float64
	err = s.pool.QueryRow(ctx, q).Scan(&b[0], &b[1], &b[2], &b[3])
	switch {
	case err == nil:
		info.hasData = true
		for i := range b {
			b[i] = round6(b[i])
		}
		info.bounds = b
	case errors.Is(err, pgx.ErrNoRows):
	default:
		return nil, fmt.Errorf("tileset extent: %w", err)
	}
	s.infoMu.Lock()
	s.info[ts.ID] = info
	s.infoMu.Unlock()
	return info, nil
}

// attribution joins the attributions recorded in layer_metadata for the
// tileset's layers (an import of OpenStreetMap data records "©
// OpenStreetMap contributors"), led by a sample-data notice when a layer
// holds generated sample data and no attribution says so already. It is
// read on every call: layer_metadata changes without a layer version.
func (s *Service) attribution(ctx context.Context, ts *Tileset) (string, error) {
	var ids []string
	for _, l := range ts.Layers {
		ids = append(ids, l.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT is_sample, coalesce(attribution, '') FROM `+
		layers.QuoteIdent(layers.Schema)+`.layer_metadata WHERE layer = ANY($1)`, ids)
	if err != nil {
		return "", fmt.Errorf("layer metadata: %w", err)
	}
	defer rows.Close()
	sample := false
	seen := map[string]bool{}
	var attrs []string
	for rows.Next() {
		var (
			attr     string
			isSample bool
		)
		if err := rows.Scan(&isSample, &attr); err != nil {
			return "", err
		}
		sample = sample || isSample
		for _, a := range strings.Split(attr, "|") {
			a = strings.TrimSpace(a)
			if a != "" && !seen[a] {
				seen[a] = true
				attrs = append(attrs, a)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	sort.Strings(attrs)
	if sample && !strings.Contains(strings.Join(attrs, " "), "示例数据") {
		attrs = append([]string{"示例数据 sample data: generated, not survey results"}, attrs...)
	}
	return strings.Join(attrs, " | "), nil
}
