package layers

// Villages is the 村级调查区 layer (CJDCQ): one MultiPolygon per
// administrative village with its 12-digit 统计用区划代码 and its 村庄分类.
var Villages = &Layer{
	ID: "villages", TitleZH: "村级调查区", TitleEN: "Villages",
	Description:  "行政村范围与村庄分类（集聚提升/城郊融合/特色保护/搬迁撤并/暂不分类）。Administrative village areas with their planning classification.",
	StandardName: "CJDCQ",
	Table:        "villages", Geometry: MultiPolygon,
	Fields: []Field{
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "village code (12 digits)", Type: Text, MaxLength: 12, Required: true, Unique: true}),
		{Name: "xzqmc", Code: "XZQMC", TitleZH: "村名", TitleEN: "village name", Type: Text, Required: true},
		{Name: "czlx", Code: "CZLX", TitleZH: "村庄分类", TitleEN: "classification", Type: Text, CodeList: CLVillageClass, Required: true},
		{Name: "designation", TitleZH: "村庄称号", TitleEN: "designation", Type: Text, CodeList: CLVillageDesignate},
		{Name: "households", TitleZH: "户数", TitleEN: "households", Type: Integer, Unit: "户", Min: nonNegative},
		{Name: "population", TitleZH: "人口", TitleEN: "population", Type: Integer, Unit: "人", Min: nonNegative},
		{Name: "township_code", TitleZH: "乡镇代码", TitleEN: "township code (9 digits)", Type: Text, MaxLength: 9,
			Pattern: PatternTownship, PatternZH: "9 位数字（乡镇级统计用区划代码）", PatternEN: "exactly 9 digits (township division code)"},
	},
	Key: "xzqdm",
	Editing: Editing{Topology: []TopologyRule{
		{Kind: NoOverlap, Other: "villages", ToleranceM2: 1,
			ZH: "村级调查区之间不得重叠（每处土地只属于一个村）",
			EN: "village areas may not overlap each other (every piece of land belongs to one village)"},
	}},
	MinZoom: 8, MaxZoom: 22, Group: "规划管控",
	Style: Style{Kind: "fill", Color: "#d9d9d9", Opacity: 0.35, ColorBy: "czlx", LabelField: "xzqmc", Colors: map[string]string{
		"集聚提升类": "#f4a259", "城郊融合类": "#8cb369", "特色保护类": "#bc4b51", "搬迁撤并类": "#5b8e7d", "暂不分类": "#bdbdbd",
	}},
}

func init() { register(Villages) }
