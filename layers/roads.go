package layers

// Roads is the 农村公路 layer: centrelines with route code (X/Y/C + 3
// digits), administrative and technical grade, widths in metres and the
// "四好农村路" management attributes. The 乡村建设行动 attributes (issue 14)
// are survey flags: hardened (硬化路面, cement or asphalt), main_road
// (村内主干道), fire_lane (满足消防车道要求: clear width ≥ 4 m, GB 50016
// 第 7.1.8 条) and lit (已安装路灯 as surveyed; the lighting indicator
// computes lighting from the streetlights layer, not from this flag). The siting check derives the
// 公路建筑控制区 from the centreline, the 路基宽度 and the 公路用地 margin
// (公路安全保护条例 第十一条).
var Roads = &Layer{
	ID: "roads", TitleZH: "农村公路", TitleEN: "Roads",
	Description: "县道、乡道、村道中心线及技术等级、宽度、路面、管养单位。Rural road centrelines.",
	Table:       "roads", Geometry: MultiLineString,
	Fields: []Field{
		{Name: "lxbm", Code: "LXBM", TitleZH: "路线编号", TitleEN: "route code", Type: Text, MaxLength: 10},
		{Name: "lxmc", Code: "LXMC", TitleZH: "路线名称", TitleEN: "route name", Type: Text},
		{Name: "admin_grade", TitleZH: "行政等级", TitleEN: "administrative grade", Type: Text, CodeList: CLRoadAdminGrade, Required: true},
		{Name: "tech_grade", TitleZH: "技术等级", TitleEN: "technical grade", Type: Text, CodeList: CLRoadTechGrade},
		{Name: "subgrade_width", TitleZH: "路基宽度", TitleEN: "subgrade width", Type: Real, Unit: "m", Min: nonNegative},
		{Name: "pavement_width", TitleZH: "路面宽度", TitleEN: "pavement width", Type: Real, Unit: "m", Min: nonNegative},
		{Name: "surface", TitleZH: "面层类型", TitleEN: "surface", Type: Text, CodeList: CLRoadSurface},
		{Name: "built_year", TitleZH: "修建年度", TitleEN: "year built", Type: Integer},
		{Name: "length_km", TitleZH: "里程", TitleEN: "declared length", Type: Real, Unit: "km", Min: nonNegative},
		{Name: "maintainer", TitleZH: "管养单位", TitleEN: "maintainer", Type: Text},
		{Name: "road_chief", TitleZH: "路长", TitleEN: "road chief", Type: Text, TileMinZoom: -1},
		{Name: "condition", TitleZH: "路况等级", TitleEN: "condition", Type: Text, CodeList: CLRoadCondition},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "administrative code", Type: Text, MaxLength: 12}),
		{Name: "hardened", TitleZH: "硬化路面", TitleEN: "hardened surface", Type: Bool},
		{Name: "main_road", TitleZH: "村内主干道", TitleEN: "main village road", Type: Bool},
		{Name: "fire_lane", TitleZH: "满足消防车道要求", TitleEN: "fire lane (clear width ≥ 4 m, GB 50016)", Type: Bool},
		{Name: "lit", TitleZH: "已安装路灯", TitleEN: "lit (as surveyed)", Type: Bool},
	},
	MinZoom: 9, MaxZoom: 22, Group: "基础设施",
	Style: Style{Kind: "line", Color: "#969696", Width: 2, ColorBy: "admin_grade", LabelField: "lxbm", Colors: map[string]string{
		"国道": "#e31a1c", "省道": "#fd8d3c", "县道": "#fdae61", "乡道": "#fee08b", "村道": "#ffffff", "专用公路": "#bdbdbd",
	}},
}

func init() { register(Roads) }
