package layers

// NaturalHamlets is the 自然屯 layer: the settled extent of each natural
// hamlet (自然屯, the unit below the administrative village in which the
// 乡村建设行动 counts road, water and reach indicators), one MultiPolygon
// per hamlet with its village code and its households and population.
var NaturalHamlets = &Layer{
	ID: "natural_hamlets", TitleZH: "自然屯", TitleEN: "Natural hamlets",
	Description: "自然屯（村民小组）居民点范围、所属行政村、户数与人口；乡村建设行动按自然屯统计通硬化路、供水入户与设施可达。Settled extent of natural hamlets.",
	Table:       "natural_hamlets", Geometry: MultiPolygon,
	Fields: []Field{
		{Name: "name", TitleZH: "自然屯名称", TitleEN: "hamlet name", Type: Text, Required: true},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "所属村代码", TitleEN: "village code", Type: Text, MaxLength: 12, Required: true}),
		{Name: "households", TitleZH: "户数", TitleEN: "households", Type: Integer, Unit: "户", Min: nonNegative},
		{Name: "population", TitleZH: "人口", TitleEN: "population", Type: Integer, Unit: "人", Min: nonNegative},
	},
	Editing: Editing{Topology: []TopologyRule{
		{Kind: NoOverlap, Other: "natural_hamlets", ToleranceM2: 1,
			ZH: "自然屯范围之间不得重叠（每户只属于一个自然屯）",
			EN: "hamlet extents may not overlap each other (every household belongs to one hamlet)"},
	}},
	MinZoom: 11, MaxZoom: 22, Group: "村庄",
	Style: Style{Kind: "fill", Color: "#fdd49e", Opacity: 0.3, LabelField: "name"},
}

func init() { register(NaturalHamlets) }
