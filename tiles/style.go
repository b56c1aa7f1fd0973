package tiles

import (
	"context"
	"sort"
	"strings"

	"villageplan/layers"
)

// SourceID is the name of the vector source in the default style.
const SourceID = "villageplan"

// LabelFont is the font stack named by the style's symbol layers. The
// style has no "glyphs" URL (optional in the MapLibre style spec), so
// MapLibre GL JS draws every label glyph itself with the browser's fonts
// (TinySDF): Chinese names and Latin road codes such as "X101" render
// offline with no glyph files shipped. The stack is the CSS generic family.
const LabelFont = "sans-serif"

// Style builds the default MapLibre style (style spec v8) from the catalog:
// one vector source (the MapTileset TileJSON) and, per layer in map order,
//   - fill layers: a fill coloured by Style.ColorBy/Colors with
//     Style.Opacity, and an outline in the same colours;
//   - line layers: a grey casing and a line coloured by ColorBy whose width
//     grows with zoom and with the rank of the value in the ColorBy code
//     list (first value widest, so 国道 > 省道 > … > 村道);
//   - circle layers: circles coloured by ColorBy, white stroke;
//   - a symbol layer with Chinese labels for Style.LabelField.
//
// No sprite (no icons or fill patterns), no glyphs URL (see LabelFont) and
// no external URL: the source points at baseURL.
func (s *Service) Style(ctx context.Context, baseURL string) (map[string]any, error) {
	base := strings.TrimRight(baseURL, "/")
	style := map[string]any{
		"version": 8,
		"name":    "村庄规划一张图 villageplan",
		"metadata": map[string]any{
			"villageplan:source": "generated from the layer catalog (layers/)",
		},
		"sources": map[string]any{
			SourceID: map[string]any{"type": "vector", "url": base + "/tiles/" + MapTileset + ".json"},
		},
	}
	if ts, ok := s.tilesets[MapTileset]; ok && s.pool != nil {
		info, err := s.tileJSONInfo(ctx, ts)
		if err != nil {
			return nil, err
		}
		if info.hasData {
			b := info.bounds
			style["center"] = []float64{round6((b[0] + b[2]) / 2), round6((b[1] + b[3]) / 2)}
			style["zoom"] = max(ts.MinZoom, min(fitZoom(b), ts.MaxZoom))
		}
	}
	out := []any{map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f6f5f0"}}}
	var labels []any
	for _, l := range s.catalog.Layers() {
		out = append(out, styleLayers(l)...)
		if lab := labelLayer(l); lab != nil {
			labels = append(labels, lab)
		}
		if lab := detailLabelLayer(l); lab != nil {
			labels = append(labels, lab)
		}
	}
	style["layers"] = append(out, labels...)
	return style, nil
}

func zoomRange(m map[string]any, l *layers.Layer) map[string]any {
	m["minzoom"] = l.MinZoom
	if l.MaxZoom < MaxZoom {
		m["maxzoom"] = l.MaxZoom + 1 // style maxzoom is exclusive
	}
	m["source"] = SourceID
	m["source-layer"] = l.ID
	m["metadata"] = map[string]any{"villageplan:layer": l.ID, "villageplan:group": l.Group, "villageplan:title": l.TitleZH}
	return m
}

// colorExpr is the colour of l's features: a match on ColorBy or the plain
// colour.
func colorExpr(l *layers.Layer) any {
	st := l.Style
	if st.ColorBy == "" || len(st.Colors) == 0 {
		return st.Color
	}
	keys := make([]string, 0, len(st.Colors))
	for k := range st.Colors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	expr := []any{"match", []any{"get", st.ColorBy}}
	for _, k := range keys {
		expr = append(expr, k, st.Colors[k])
	}
	return append(expr, st.Color)
}

// rankFactor is 1 for the last value of the ColorBy code list and grows to
// 2.5 for the first, as a match expression; nil when there is no code list.
func rankFactor(l *layers.Layer) any {
	f, ok := l.Field(l.Style.ColorBy)
	if !ok || f.CodeList == "" {
		return nil
	}
	cl, ok := layers.CodeListByID(f.CodeList)
	if !ok || len(cl.Values) < 2 {
		return nil
	}
	n := len(cl.Values)
	expr := []any{"match", []any{"get", f.Name}}
	for i, v := range cl.Values {
		expr = append(expr, v.Value, 1+1.5*float64(n-1-i)/float64(n-1))
	}
	return append(expr, 1.0)
}

// lineWidth is the width in px of l's lines: Style.Width at z14, a third
// of it at z10, four times at z18 (exponential), times the rank factor,
// plus extra (for casings).
func lineWidth(l *layers.Layer, extra float64) any {
	w := l.Style.Width
	if w <= 0 {
		w = 1
	}
	at := func(k float64) any {
		var v any = w * k
		if rf := rankFactor(l); rf != nil {
			v = []any{"*", w * k, rf}
		}
		if extra != 0 {
			v = []any{"+", extra, v}
		}
		return v
	}
	return []any{"interpolate", []any{"exponential", 1.5}, []any{"zoom"}, 10, at(0.35), 14, at(1), 18, at(4)}
}

func styleLayers(l *layers.Layer) []any {
	st := l.Style
	color := colorExpr(l)
	switch st.Kind {
	case "fill":
		op := st.Opacity
		if op <= 0 {
			op = 0.5
		}
		return []any{
			zoomRange(map[string]any{"id": l.ID + "-fill", "type": "fill",
				"paint": map[string]any{"fill-color": color, "fill-opacity": op}}, l),
			zoomRange(map[string]any{"id": l.ID + "-outline", "type": "line",
				"paint": map[string]any{"line-color": color, "line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 10, 0.5, 16, 1.5}}}, l),
		}
	case "line":
		out := []any{}
		if st.ColorBy != "" {
			out = append(out, zoomRange(map[string]any{"id": l.ID + "-casing", "type": "line",
				"layout": map[string]any{"line-cap": "round", "line-join": "round"},
				"paint":  map[string]any{"line-color": "#7a7a7a", "line-width": lineWidth(l, 1.5)}}, l))
		}
		return append(out, zoomRange(map[string]any{"id": l.ID + "-line", "type": "line",
			"layout": map[string]any{"line-cap": "round", "line-join": "round"},
			"paint":  map[string]any{"line-color": color, "line-width": lineWidth(l, 0)}}, l))
	case "circle":
		r := st.Width
		if r <= 0 {
			r = 4
		}
		return []any{zoomRange(map[string]any{"id": l.ID + "-circle", "type": "circle",
			"paint": map[string]any{
				"circle-color":        color,
				"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, l.MinZoom, r, 18, r * 1.8},
				"circle-stroke-color": "#ffffff",
				"circle-stroke-width": 1,
			}}, l)}
	}
	return nil
}

// detailLabelLayer labels every feature of l with Style.DetailLabel from
// layers.DetailLabelZoom on (parcels' 宗地代码, land classes' 地类名称);
// MapLibre's collision detection drops the labels that do not fit.
func detailLabelLayer(l *layers.Layer) map[string]any {
	if l.Style.DetailLabel == "" {
		return nil
	}
	m := zoomRange(map[string]any{"id": l.ID + "-detail-label", "type": "symbol",
		"layout": map[string]any{
			"text-field": []any{"get", l.Style.DetailLabel}, "text-font": []any{LabelFont},
			"text-size":      []any{"interpolate", []any{"linear"}, []any{"zoom"}, layers.DetailLabelZoom, 10, 20, 13},
			"text-max-width": 8, "text-padding": 4,
		},
		"paint": map[string]any{"text-color": "#3a2a14", "text-halo-color": "#ffffff", "text-halo-width": 1.2}}, l)
	m["minzoom"] = max(l.MinZoom, layers.DetailLabelZoom)
	return m
}

func labelLayer(l *layers.Layer) map[string]any {
	if l.Style.LabelField == "" {
		return nil
	}
	layout := map[string]any{
		"text-field": []any{"get", l.Style.LabelField},
		"text-font":  []any{LabelFont},
		"text-size":  []any{"interpolate", []any{"linear"}, []any{"zoom"}, 10, 11, 16, 14},
	}
	if l.Geometry == layers.MultiLineString {
		layout["symbol-placement"] = "line"
	} else if l.Geometry == layers.Point {
		layout["text-offset"] = []any{0, 1.2}
		layout["text-anchor"] = "top"
	}
	m := zoomRange(map[string]any{"id": l.ID + "-label", "type": "symbol", "layout": layout,
		"paint": map[string]any{"text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.5}}, l)
	if HasLabelPoints(l) {
		m["source-layer"] = l.ID + LabelLayerSuffix
	}
	return m
}
