package layers

// LandUse is the 地类图斑 layer (DLTB) of the 三调 / annual change survey,
// classified by DLBM (GB/T 21010-2017 as grouped by 三调). The siting check
// reads it for 耕地 (R2) and 农用地 (R3).
var LandUse = &Layer{
	ID: "land_use", TitleZH: "地类图斑", TitleEN: "Land use",
	Description:  "第三次国土调查地类图斑（DLBM 三调地类）。Land-use parcels of the third national land survey.",
	StandardName: "DLTB",
	Table:        "land_use", Geometry: MultiPolygon,
	// Below z15 tiles carry only dlbm/dlmc: a z12 map tile holds ~17,000
	// land-use and ~10,000 farmland polygons, and every attribute pushed it
	// over 500 KB (p95 ~1 s; with this, ~0.2 s on the county sample).
	Fields: []Field{
		{Name: "tbbh", Code: "TBBH", TitleZH: "图斑编号", TitleEN: "parcel number", Type: Text, MaxLength: 8, TileMinZoom: 15},
		{Name: "dlbm", Code: "DLBM", TitleZH: "地类编码", TitleEN: "land class code", Type: Text, MaxLength: 5, CodeList: CLDLBM, Required: true},
		{Name: "dlmc", Code: "DLMC", TitleZH: "地类名称", TitleEN: "land class name", Type: Text},
		{Name: "zldwdm", Code: "ZLDWDM", TitleZH: "坐落单位代码", TitleEN: "location unit code", Type: Text, MaxLength: 19, TileMinZoom: 15},
		{Name: "zldwmc", Code: "ZLDWMC", TitleZH: "坐落单位名称", TitleEN: "location unit name", Type: Text, TileMinZoom: 15},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "village code", Type: Text, MaxLength: 12, TileMinZoom: 15}),
		{Name: "tbmj", Code: "TBMJ", TitleZH: "图斑面积", TitleEN: "declared area", Type: Real, Unit: "m²", TileMinZoom: 15, Min: nonNegative},
		{Name: "czcsxm", Code: "CZCSXM", TitleZH: "城镇村属性码", TitleEN: "urban/village attribute code", Type: Text, MaxLength: 4, TileMinZoom: 15},
		{Name: "sjnf", Code: "SJNF", TitleZH: "数据年份", TitleEN: "data year", Type: Integer, TileMinZoom: 15},
	},
	MinZoom: 12, MaxZoom: 22, Group: "规划管控",
	Style: Style{Kind: "fill", Color: "#cccccc", Opacity: 0.5, ColorBy: "dlbm", DetailLabel: "dlmc", Colors: map[string]string{
		"0101": "#f7e08d", "0102": "#f3d56a", "0103": "#fbeec1", "0201": "#c7e9a0", "0301": "#70a85a", "0305": "#97c27a", "0307": "#a9d18e",
		"0404": "#d4e8b0", "0702": "#e8a0a0", "1006": "#bfbfbf", "1101": "#9ecae1", "1104": "#a6cee3", "1107": "#9ecae1", "1202": "#d9c7a6",
	}},
}

func init() { register(LandUse) }
