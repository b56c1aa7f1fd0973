package web

import (
	"slices"

	"villageplan/layers"
)

// Meta is what the pages need to know about the layers, served as JSON
// (/map/meta.json): the layer panel's groups in the order planners think
// of them, each layer's titles and zoom range, the fields a popup shows
// with their titles, units and code-list names, and the thematic views.
// It is built from the catalog only; personal fields never appear.
type Meta struct {
	Groups []Group `json:"groups"`
	Views  []View  `json:"views"`
	// Sample is true when the served data is (partly) the generated sample
	// township (示例数据); the pages then say so.
	Sample bool `json:"sample"`
	// Extent is the extent of the villages [west, south, east, north] in
	// CGCS2000 degrees, where the map opens; nil when there are none.
	Extent *[4]float64 `json:"extent,omitempty"`
}

// Group is one section of the layer panel.
type Group struct {
	ID      string      `json:"id"`
	TitleZH string      `json:"title_zh"`
	TitleEN string      `json:"title_en"`
	Layers  []LayerMeta `json:"layers"`
}

// LayerMeta describes one catalog layer to the pages. Colours and legend
// swatches come from the MapLibre style; this gives the names.
type LayerMeta struct {
	ID       string `json:"id"`
	TitleZH  string `json:"title_zh"`
	TitleEN  string `json:"title_en"`
	Geometry string `json:"geometry"`
	MinZoom  int    `json:"minzoom"`
	MaxZoom  int    `json:"maxzoom"`
	// ColorBy is the field whose values the style colours by ("" when the
	// layer has one colour).
	ColorBy string `json:"color_by,omitempty"`
	// LabelField is the field the map labels with, "" for none.
	LabelField string `json:"label_field,omitempty"`
	// Fields are the non-personal attributes in display order.
	Fields []FieldMeta `json:"fields"`
	// Editing says who edits the layer on the map and what a change must
	// keep (the catalog's layers.Editing); the server checks it again.
	Editing EditingMeta `json:"editing"`
	// DefaultOn: the map opens with the layer shown (DefaultLayers); the
	// others are one click away in the layer panel.
	DefaultOn bool `json:"default_on,omitempty"`
}

// DefaultLayers are the layers the map opens with: what a planner reads
// first (villages, the planning control zones, permanent farmland, roads
// and homesteads). Land-use parcels, hazard zones and the utility layers
// stay off until asked for, so the first view is legible and light.
var DefaultLayers = []*layers.Layer{layers.Villages, layers.ControlZones, layers.PermanentFarmland, layers.Roads, layers.Homesteads}

// EditingMeta is what the map's editing mode needs of a layer's
// layers.Editing: the roles that may edit it (auth role codes; planning
// editors always), whether changes are reviewed before they are
// published (202 "已提交审核"), and the topology rules in words.
type EditingMeta struct {
	Roles []string `json:"roles"`
	// Review is nil when changes are published at once; All is true when
	// every change is reviewed, else Field/Values name the reviewed ones.
	Review   *ReviewMeta    `json:"review,omitempty"`
	Topology []TopologyMeta `json:"topology,omitempty"`
}

// ReviewMeta is layers.Review for the pages.
type ReviewMeta struct {
	All    bool     `json:"all,omitempty"`
	Field  string   `json:"field,omitempty"`
	Values []string `json:"values,omitempty"`
	ZH     string   `json:"zh"`
	EN     string   `json:"en"`
}

// TopologyMeta is one topology rule: the other layer, the tolerated
// overlap in m² and the rule in words.
type TopologyMeta struct {
	Kind        string  `json:"kind"`
	Other       string  `json:"other"`
	ToleranceM2 float64 `json:"tolerance_m2"`
	ZH          string  `json:"zh"`
	EN          string  `json:"en"`
}

// FieldMeta is one non-personal attribute as a popup shows it.
type FieldMeta struct {
	Name    string `json:"name"`
	Code    string `json:"code,omitempty"`
	TitleZH string `json:"title_zh"`
	TitleEN string `json:"title_en"`
	Type    string `json:"type"`
	Unit    string `json:"unit,omitempty"`
	// Required, MaxLength (characters, 0 unbounded), Min (numeric
	// fields) and Pattern (with its rule in words) are the catalog's
	// checks, for the editing form's marks and input limits.
	Required  bool     `json:"required,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
	Min       *float64 `json:"min,omitempty"`
	Pattern   string   `json:"pattern,omitempty"`
	PatternZH string   `json:"pattern_zh,omitempty"`
	PatternEN string   `json:"pattern_en,omitempty"`
	// AdminCode marks a 12-digit village code (XZQDM): the form fills it
	// from the village under a new feature.
	AdminCode bool `json:"admin_code,omitempty"`
	// Unique: no two features hold the same value (宗地代码 …); a split's
	// new part needs a value of its own.
	Unique bool `json:"unique,omitempty"`
	// Codes are the values of the field's code list in list order, with
	// their names (DLBM "0103" → 旱地 / dry land); nil without a code list.
	Codes []CodeName `json:"codes,omitempty"`
}

// CodeName is a code-list value with its Chinese and English names.
type CodeName struct {
	Value string `json:"value"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

// View is a thematic view of the map: the layers it shows (all others are
// hidden while it is on), the layer whose legend it explains, and an
// optional overlay computed by the server.
type View struct {
	ID      string   `json:"id"`
	TitleZH string   `json:"title_zh"`
	TitleEN string   `json:"title_en"`
	NoteZH  string   `json:"note_zh,omitempty"`
	NoteEN  string   `json:"note_en,omitempty"`
	Layers  []string `json:"layers"`
	// Focus is the layer the view is about: drawn opaque, its legend open.
	Focus string `json:"focus,omitempty"`
	// Overlay is a GeoJSON URL (relative to the service root) drawn on top,
	// with its legend (value of the "class" property → colour and names).
	Overlay       string          `json:"overlay,omitempty"`
	OverlayLegend []OverlayLegend `json:"overlay_legend,omitempty"`
	// OverlayKind is "" for line classes (the "class" property) or "fill"
	// for polygons coloured by steps of OverlayProperty: each legend
	// entry's Min is the lower bound of its step (the first has none);
	// features without a value are grey.
	OverlayKind     string `json:"overlay_kind,omitempty"`
	OverlayProperty string `json:"overlay_property,omitempty"`
	// SignedIn views need an account (their overlay is not public): the
	// panel lists them only to a signed-in user, and says so when the
	// user's roles may not read the overlay (403).
	SignedIn bool `json:"signed_in,omitempty"`
}

// OverlayLegend is one class of a view overlay.
type OverlayLegend struct {
	Class   string   `json:"class,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Color   string   `json:"color"`
	TitleZH string   `json:"title_zh"`
	TitleEN string   `json:"title_en"`
}

// groupOrder is the order and English names of the panel groups declared
// by layers.Layer.Group (DESIGN.md: 规划管控, 基础设施, 宅基地, 灾害风险;
// issue 14 adds 村庄 for the 自然屯 and 公共服务 for the facilities).
var groupOrder = []struct{ zh, en string }{
	{"规划管控", "Planning control"},
	{"村庄", "Villages and hamlets"},
	{"基础设施", "Infrastructure"},
	{"公共服务", "Public services"},
	{"宅基地", "Homesteads"},
	{"灾害风险", "Hazard risk"},
}

// thematic views defined by the code list their layer is coloured by: the
// view shows the one layer coloured by that list (plus the village areas
// for orientation). Which layer that is comes from the catalog.
var thematic = []struct {
	id, codeList, zh, en, noteZH, noteEN string
}{
	{"village-class", layers.CLVillageClass, "村庄分类", "Village classification",
		"按县域村庄布局规划的村庄分类着色", "villages coloured by their planning classification"},
	{"road-grades", layers.CLRoadAdminGrade, "道路等级", "Road grades",
		"农村公路按行政等级着色，线宽随等级", "rural roads by administrative grade; width grows with the grade"},
	{"hazard-grades", layers.CLHazardGrade, "灾害风险等级", "Hazard grades",
		"地质灾害与山洪灾害风险区按等级着色", "geological and flash-flood hazard zones by grade"},
}

// BuildMeta describes the catalog's layers for the pages. coverage, when
// not nil, adds the streetlight-coverage view (its overlay is served at
// CoveragePath).
func BuildMeta(cat *layers.Catalog, coverage *Coverage) *Meta {
	m := &Meta{}
	byGroup := map[string]*Group{}
	for _, g := range groupOrder {
		m.Groups = append(m.Groups, Group{ID: g.zh, TitleZH: g.zh, TitleEN: g.en})
	}
	for i := range m.Groups {
		byGroup[m.Groups[i].ID] = &m.Groups[i]
	}
	for _, l := range cat.Layers() {
		g, ok := byGroup[l.Group]
		if !ok {
			m.Groups = append(m.Groups, Group{ID: l.Group, TitleZH: l.Group, TitleEN: l.Group})
			// Appending may move the slice: rebuild the index.
			for i := range m.Groups {
				byGroup[m.Groups[i].ID] = &m.Groups[i]
			}
			g = byGroup[l.Group]
		}
		g.Layers = append(g.Layers, layerMeta(l))
	}
	// Drop declared groups that hold no layer.
	kept := m.Groups[:0]
	for _, g := range m.Groups {
		if len(g.Layers) > 0 {
			kept = append(kept, g)
		}
	}
	m.Groups = kept
	m.Views = views(cat, coverage)
	return m
}

func layerMeta(l *layers.Layer) LayerMeta {
	lm := LayerMeta{ID: l.ID, TitleZH: l.TitleZH, TitleEN: l.TitleEN, Geometry: string(l.Geometry),
		MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ColorBy: l.Style.ColorBy, LabelField: l.Style.LabelField, Fields: []FieldMeta{}}
	for _, d := range DefaultLayers {
		lm.DefaultOn = lm.DefaultOn || d.ID == l.ID
	}
	for _, f := range l.Fields {
		if f.Personal {
			continue
		}
		fm := FieldMeta{Name: f.Name, Code: f.Code, TitleZH: f.TitleZH, TitleEN: f.TitleEN, Type: string(f.Type), Unit: f.Unit,
			Required: f.Required, MaxLength: f.MaxLength, Min: f.Min, Pattern: f.Pattern, PatternZH: f.PatternZH, PatternEN: f.PatternEN, AdminCode: f.AdminCode, Unique: f.Unique}
		if cl, ok := layers.CodeListByID(f.CodeList); ok {
			for _, v := range cl.Values {
				fm.Codes = append(fm.Codes, CodeName{Value: v.Value, ZH: v.NameZH, EN: v.NameEN})
			}
		}
		lm.Fields = append(lm.Fields, fm)
	}
	// Planning editors edit every layer (internal/editing.EditRoles).
	lm.Editing.Roles = []string{"planning_editor"}
	for _, r := range l.Editing.Roles {
		if !slices.Contains(lm.Editing.Roles, r) {
			lm.Editing.Roles = append(lm.Editing.Roles, r)
		}
	}
	if rv := l.Editing.Review; rv != nil {
		lm.Editing.Review = &ReviewMeta{All: rv.All, Field: rv.Field, Values: rv.Values, ZH: rv.ZH, EN: rv.EN}
	}
	for _, t := range l.Editing.Topology {
		lm.Editing.Topology = append(lm.Editing.Topology, TopologyMeta{Kind: string(t.Kind), Other: t.Other, ToleranceM2: t.ToleranceM2, ZH: t.ZH, EN: t.EN})
	}
	return lm
}

// colouredBy returns the first layer whose style colours by a field with
// the given code list.
func colouredBy(cat *layers.Catalog, codeList string) *layers.Layer {
	for _, l := range cat.Layers() {
		if f, ok := l.Field(l.Style.ColorBy); ok && l.Style.ColorBy != "" && f.CodeList == codeList {
			return l
		}
	}
	return nil
}

func views(cat *layers.Catalog, coverage *Coverage) []View {
	var out []View
	context := colouredBy(cat, layers.CLVillageClass) // village areas orient every view
	for _, t := range thematic {
		l := colouredBy(cat, t.codeList)
		if l == nil {
			continue
		}
		v := View{ID: t.id, TitleZH: t.zh, TitleEN: t.en, NoteZH: t.noteZH, NoteEN: t.noteEN, Focus: l.ID, Layers: []string{l.ID}}
		if context != nil && context != l {
			v.Layers = append([]string{context.ID}, v.Layers...)
		}
		out = append(out, v)
	}
	if coverage != nil {
		v := View{ID: "streetlight-coverage", TitleZH: "路灯照明覆盖", TitleEN: "Streetlight coverage",
			NoteZH: coverage.NoteZH(), NoteEN: coverage.NoteEN(),
			Focus: coverage.Lights.ID, Layers: []string{coverage.Roads.ID, coverage.Lights.ID}, Overlay: CoveragePath,
			OverlayLegend: []OverlayLegend{
				{Class: "lit", Color: "#f08c00", TitleZH: "已照明路段", TitleEN: "lit segments"},
				{Class: "unlit", Color: "#3b4cc0", TitleZH: "未照明路段", TitleEN: "unlit segments"},
			}}
		if context != nil {
			v.Layers = append([]string{context.ID}, v.Layers...)
		}
		out = append(out, v)
	}
	if vl, ok := cat.Layer("villages"); ok {
		// The 考核评估 score of the running year per village (issue 14):
		// a choropleth of /assessment/villages.geojson, for the roles that
		// read the assessment (planners, approver, analysts, admin).
		step := func(min float64) *float64 { return &min }
		out = append(out, View{ID: "assessment-score", TitleZH: "村庄考核评分", TitleEN: "Village assessment score",
			NoteZH: "本年度考核评估得分（0–100），由指标与项目完成情况按管理员设定的权重计算；详见 /assessment",
			NoteEN: "this year's assessment score (0–100) from the indicators and project completion with the administrator's weights; see /assessment",
			Focus:  vl.ID, Layers: []string{vl.ID}, Overlay: "assessment/villages.geojson", OverlayKind: "fill", OverlayProperty: "score", SignedIn: true,
			OverlayLegend: []OverlayLegend{
				{Color: "#d7191c", TitleZH: "60 分以下", TitleEN: "below 60"},
				{Min: step(60), Color: "#fdae61", TitleZH: "60–70 分", TitleEN: "60–70"},
				{Min: step(70), Color: "#ffffbf", TitleZH: "70–80 分", TitleEN: "70–80"},
				{Min: step(80), Color: "#a6d96a", TitleZH: "80–90 分", TitleEN: "80–90"},
				{Min: step(90), Color: "#1a9641", TitleZH: "90 分及以上", TitleEN: "90 and above"},
			}})
	}
	return out
}
