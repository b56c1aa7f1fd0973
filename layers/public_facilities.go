package layers

// PublicFacilities is the 公共服务设施 layer of the 乡村建设行动 (issue 14):
// one point per facility of the village service, environment and safety
// tasks — 便民服务中心, 卫生室, 文化活动室 / 新时代文明实践站, 全民健身场地,
// 互助养老服务设施, 应急避难场所 (with its capacity in persons), 应急广播,
// 消防设施 (消火栓, 微型消防站), 公厕, 垃圾收集点 / 转运站 and
// 污水处理设施 — with its planning state (规划, 在建, 运行, 停用). The
// indicators count reach along the road network from every homestead to
// the nearest 运行 shelter, clinic and service centre.
var PublicFacilities = &Layer{
	ID: "public_facilities", TitleZH: "公共服务设施", TitleEN: "Public facilities",
	Description: "村级便民服务、卫生、文化、养老、应急避难、消防与环境卫生设施点位及其状态（乡村建设行动）。Village public service, safety and sanitation facilities.",
	Table:       "public_facilities", Geometry: Point,
	Fields: []Field{
		{Name: "name", TitleZH: "设施名称", TitleEN: "name", Type: Text, Required: true},
		{Name: "kind", TitleZH: "设施类型", TitleEN: "facility kind", Type: Text, CodeList: CLPublicFacilityKind, Required: true},
		{Name: "state", TitleZH: "建设状态", TitleEN: "state", Type: Text, CodeList: CLFacilityState, Required: true},
		{Name: "capacity_persons", TitleZH: "容纳人数", TitleEN: "capacity (persons, shelters)", Type: Integer, Unit: "人", Min: nonNegative},
		{Name: "area_m2", TitleZH: "占地面积", TitleEN: "area", Type: Real, Unit: "m²", Min: nonNegative},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "所属村代码", TitleEN: "village code", Type: Text, MaxLength: 12}),
		{Name: "hamlet", TitleZH: "所在自然屯", TitleEN: "natural hamlet", Type: Text},
		{Name: "built_year", TitleZH: "建成年份", TitleEN: "year built", Type: Integer},
		{Name: "operator", TitleZH: "管护主体", TitleEN: "operator", Type: Text},
	},
	MinZoom: 12, MaxZoom: 22, Group: "公共服务",
	Style: Style{Kind: "circle", Color: "#6a3d9a", Width: 5, ColorBy: "kind", LabelField: "name", Colors: map[string]string{
		"便民服务中心": "#6a3d9a", "卫生室": "#e7298a", "文化活动室": "#7570b3", "新时代文明实践站": "#b2182b",
		"全民健身场地": "#66a61e", "互助养老服务设施": "#a6761d", "应急避难场所": "#1b9e77", "应急广播": "#e6ab02",
		"消火栓": "#d7301f", "微型消防站": "#99000d", "公厕": "#35978f", "垃圾收集点": "#8c6d31",
		"垃圾转运站": "#543005", "污水处理设施": "#2166ac",
	}},
}

func init() { register(PublicFacilities) }
