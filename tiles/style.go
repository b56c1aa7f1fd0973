package tiles

import (
	"context"
	"sort"
	"strings"

	"villageplan/layers"
)

// SourceID is the name of the vector source in the default style.
const SourceID = "villageplan"

// LabelFont and LabelFontFallback are the font stack (text-font) of the
// style's symbol layers. The style has no "glyphs" URL (optional in the
// MapLibre style spec), so MapLibre GL JS draws every label glyph itself
// with the browser's fonts (TinySDF), the stack joined as a CSS
// font-family: Chinese names and Latin road codes such as "X101" render
// offline with no glyph files shipped, in Noto Sans CJK SC where the
// browser knows it by that name and in the generic sans-serif otherwise.
// QGIS's style converter uses the first entry as "family style" and needs
// a real font: Noto Sans CJK SC, Regular (Debian's fonts-noto-cjk, also
// the first choice of the web pages); "sans-serif" is no font family to
// QGIS and made it warn on every label layer.
const (
	LabelFont         = "Noto Sans CJK SC Regular"
	LabelFontFallback = "sans-serif"
)

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

// rankFactors are the width factors of l's ColorBy code-list values: 1
// for the last value of the list, growing to 2.5 for the first (so 国道 >
// 省道 > … > 村道). ok is false when ColorBy has no code list of at least
// two values.
func rankFactors(l *layers.Layer) (field string, values []string, factors []float64, ok bool) {
	f, found := l.Field(l.Style.ColorBy)
	if !found || f.CodeList == "" {
		return "", nil, nil, false
	}
	cl, found := layers.CodeListByID(f.CodeList)
	if !found || len(cl.Values) < 2 {
		return "", nil, nil, false
	}
	n := len(cl.Values)
	for i, v := range cl.Values {
		values = append(values, v.Value)
		factors = append(factors, 1+1.5*float64(n-1-i)/float64(n-1))
	}
	return f.Name, values, factors, true
}

// lineWidth is the width in px of l's lines: Style.Width at z14, a third
// of it at z10, four times at z18 (exponential), times the rank factor of
// the feature's ColorBy value (1 for values outside the code list), plus
// extra (for casings).
//
// Each zoom stop is a plain number or a "match" of precomputed numbers —
// no arithmetic ("*", "+") inside the interpolation: QGIS's MapBox GL
// style converter (QgsMapBoxGlStyleConverter, 3.22) skips arithmetic stops
// and lost the road widths, while it turns a match into a CASE. MapLibre
// draws the same widths either way.
func lineWidth(l *layers.Layer, extra float64) any {
	w := l.Style.Width
	if w <= 0 {
		w = 1
	}
	field, values, factors, ranked := rankFactors(l)
	at := func(k float64) any {
		if !ranked {
			return round6(extra + w*k)
		}
		m := []any{"match", []any{"get", field}}
		for i, v := range values {
			m = append(m, v, round6(extra+w*k*factors[i]))
		}
		return append(m, round6(extra+w*k))
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
		"text-font":  []any{LabelFont, LabelFontFallback},
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
